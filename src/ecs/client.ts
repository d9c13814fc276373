import { ECSClient } from '@aws-sdk/client-ecs'
import { awsClientConfig, nameAwsCalls } from '../common/aws-calls.js'

/**
 * The ECS client every action uses. The SDK reads `AWS_ENDPOINT_URL_ECS`
 * itself, so the same client reaches Amazon ECS on GitHub and the simulator
 * here. Each HTTP attempt is bounded by `callTimeoutSeconds`, so one hung
 * call cannot stall a deploy, and every error names its call.
 */
export function createEcsClient(
  region: string | undefined,
  callTimeoutSeconds?: number
): ECSClient {
  return nameAwsCalls(
    new ECSClient(awsClientConfig(region, callTimeoutSeconds)),
    { label: 'ECS', iamPrefix: 'ecs' }
  )
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
