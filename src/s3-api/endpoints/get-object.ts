import type { RequestContext } from '../context.js'
import { readObject } from './read-object.js'

/** GetObject. */
export async function getObject(ctx: RequestContext): Promise<void> {
  await readObject(ctx, { body: true })
}
