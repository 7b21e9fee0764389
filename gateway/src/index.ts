export { buildApp, type GatewayDeps } from './app.ts'
export { type GatewayConfig, loadGatewayConfig, SERVICE_NAMES, type ServiceName, upstreamUrls } from './config.ts'
export { PROXY_ROUTES } from './routes/proxy.ts'
