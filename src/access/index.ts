// The access layer: who may do what. For now, SigV4 request authentication, shared by every face
// that accepts tenants' S3 access keys (the S3 endpoints and the admin API).
export * from './sigv4/index.js'
