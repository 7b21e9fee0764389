import { v7 } from 'uuid'

/** Time-ordered UUID v7 (API.md › Conventions): index-friendly and sortable by creation. */
export const newId = (): string => v7()
