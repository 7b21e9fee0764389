export * from './database.ts'
export * from './namespace.ts'
export * from './smtp-sink.ts'
export * from './stack.ts'
