/**
 * An error the simulator answers with, in the awsJson1.1 shape the SDK
 * parses: HTTP status plus `{"__type": code, "message": ...}`.
 */
export class EcsApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400
  ) {
    super(message)
    this.name = code
  }
}

export const clientException = (message: string): EcsApiError =>
  new EcsApiError('ClientException', message)

export const invalidParameter = (message: string): EcsApiError =>
  new EcsApiError('InvalidParameterException', message)

export const clusterNotFound = (): EcsApiError =>
  new EcsApiError('ClusterNotFoundException', 'Cluster not found.')

export const serviceNotFound = (): EcsApiError =>
  new EcsApiError('ServiceNotFoundException', 'Service not found.')

export const serviceNotActive = (): EcsApiError =>
  new EcsApiError('ServiceNotActiveException', 'Service was not ACTIVE.')
