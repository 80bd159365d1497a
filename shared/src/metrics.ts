// @coffre/shared/metrics: the Prometheus metrics, apart from the main entry (only the API loads prom-client).
export * from './features/metrics/metrics.js';
