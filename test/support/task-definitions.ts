import type { TaskDefinition } from '@aws-sdk/client-ecs'

/** A task definition as DescribeTaskDefinition returns it. */
export function describedTaskDefinition(
  overrides: Partial<TaskDefinition> = {}
): TaskDefinition {
  return {
    taskDefinitionArn:
      'arn:aws:ecs:us-east-1:123456789012:task-definition/monolith-web:7',
    family: 'monolith-web',
    revision: 7,
    status: 'ACTIVE',
    requiresAttributes: [
      { name: 'com.amazonaws.ecs.capability.logging-driver.awslogs' }
    ],
    compatibilities: ['EC2', 'FARGATE'],
    registeredAt: new Date('2026-01-01T00:00:00Z'),
    registeredBy: 'arn:aws:iam::123456789012:role/deployer',
    networkMode: 'awsvpc',
    requiresCompatibilities: ['FARGATE'],
    cpu: '512',
    memory: '1024',
    executionRoleArn: 'arn:aws:iam::123456789012:role/exec',
    volumes: [],
    placementConstraints: [],
    containerDefinitions: [
      {
        name: 'app',
        image: 'registry.example/monolith:1.0',
        essential: true,
        memory: 900,
        environment: [
          { name: 'DJANGO_MODE', value: 'web' },
          { name: 'LOG_LEVEL', value: 'info' }
        ],
        secrets: [{ name: 'DB_URL', valueFrom: 'arn:aws:ssm:db' }],
        portMappings: [{ containerPort: 8000, protocol: 'tcp' }],
        command: ['gunicorn', 'monolith.wsgi']
      },
      {
        name: 'log-router',
        image: 'fluent-bit:3',
        essential: false,
        memory: 100
      }
    ],
    ...overrides
  }
}
