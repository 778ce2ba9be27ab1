import { Counter, Histogram, type Registry } from 'prom-client'

/** Request counts, latencies and bytes, by data center and operation. */
export interface S3Metrics {
  readonly requests: Counter<'dc' | 'op' | 'status'>
  readonly duration: Histogram<'dc' | 'op'>
  readonly bytesIn: Counter<'dc' | 'op'>
  readonly bytesOut: Counter<'dc' | 'op'>
}

/** Registers the S3 metrics once in `registry`. */
export function createS3Metrics(registry: Registry): S3Metrics {
  return {
    requests: new Counter({
      name: 'sovra_s3_requests_total',
      help: 'S3 requests by data center, operation and HTTP status',
      labelNames: ['dc', 'op', 'status'] as const,
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'sovra_s3_request_duration_seconds',
      help: 'S3 request latency by data center and operation',
      labelNames: ['dc', 'op'] as const,
      buckets: [
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
      ],
      registers: [registry],
    }),
    bytesIn: new Counter({
      name: 'sovra_s3_received_bytes_total',
      help: 'Request body bytes received by data center and operation',
      labelNames: ['dc', 'op'] as const,
      registers: [registry],
    }),
    bytesOut: new Counter({
      name: 'sovra_s3_sent_bytes_total',
      help: 'Object bytes sent by data center and operation',
      labelNames: ['dc', 'op'] as const,
      registers: [registry],
    }),
  }
}
