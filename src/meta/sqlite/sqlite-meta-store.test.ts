import { join } from 'node:path'
import { runMetaStoreContract } from '../meta-store.contract.js'
import { openSqliteMetaStore } from './sqlite-meta-store.js'

runMetaStoreContract({
  name: 'sqlite',
  open: (location) =>
    openSqliteMetaStore({ driver: 'sqlite', path: join(location, 'meta.sqlite') }),
})
