import { ECSClient } from '@aws-sdk/client-ecs'

/**
 * The ECS client every action uses. The SDK reads `AWS_ENDPOINT_URL_ECS`
 * itself, so the same client reaches Amazon ECS on GitHub and the simulator
 * here. Adaptive retry backs off on ThrottlingException without our help.
 */
export function createEcsClient(region: string | undefined): ECSClient {
  return new ECSClient({
    region: region || process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION,
    maxAttempts: 8,
    retryMode: 'adaptive'
  })
}

/** The ECS console page of a service, for summaries and logs. */
export function serviceConsoleUrl(
  region: string,
  cluster: string,
  service: string
): string {
  const clusterName = cluster.split('/').pop() ?? cluster
  return `https://${region}.console.aws.amazon.com/ecs/v2/clusters/${encodeURIComponent(clusterName)}/services/${encodeURIComponent(service)}/health?region=${region}`
}
