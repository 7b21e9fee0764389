export * from './common.ts'
export * from './events/index.ts'
export * from './http/auth.ts'
export * from './requests.ts'
