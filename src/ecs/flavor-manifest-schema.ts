/**
 * The JSON Schema of the flavor manifest (`.github/ecs-flavors.yml`). The
 * same document ships as `schemas/ecs-flavors.schema.json` for editors; a
 * test keeps the two identical. It lives in code so the bundle carries it.
 */

const duration = {
  description:
    'Seconds, or a duration such as 90s, 10m, 1h30m (hours, minutes, seconds in that order)',
  anyOf: [
    { type: 'integer', minimum: 0 },
    {
      type: 'string',
      pattern: '^(\\d+(\\.\\d+)?|(\\d+h)?(\\d+m)?(\\d+(\\.\\d+)?s)?)$',
      minLength: 1
    }
  ]
}

const health = {
  type: 'object',
  description:
    'How wait-healthy judges a deployment of this flavor; unset keys come from the environment, then from defaults',
  additionalProperties: false,
  properties: {
    'startup-grace': {
      ...duration,
      description:
        'While new tasks start, stopped tasks count against startup-failure-budget'
    },
    'startup-failure-budget': {
      type: 'integer',
      minimum: 0,
      description: 'Stopped tasks tolerated during the startup grace'
    },
    'failure-budget': {
      type: 'integer',
      minimum: 0,
      description: 'Stopped tasks tolerated after the grace'
    },
    'stable-for': {
      ...duration,
      description: 'How long steady state must hold before the verdict'
    },
    timeout: { ...duration, description: 'Hard deadline for the whole wait' }
  }
}

const name = {
  type: 'string',
  pattern: '^[A-Za-z0-9][A-Za-z0-9_-]*$',
  maxLength: 64
}

const preDeploy = {
  type: 'object',
  description:
    'A one-off task (database migrations) run with the new image before any service of this environment changes; only exit code 0 of its essential container lets the rollout start',
  additionalProperties: false,
  required: ['flavor'],
  properties: {
    flavor: {
      ...name,
      description:
        "The flavor whose task definition (rendered with the new image) runs the task; its service's network configuration is the default"
    },
    command: {
      type: 'array',
      description:
        'Command override of the essential container, e.g. [python, manage.py, migrate, --noinput]',
      minItems: 1,
      items: { type: 'string' }
    },
    container: {
      type: 'string',
      minLength: 1,
      description:
        "Container whose exit code decides and that gets the command; default the flavor's first container"
    },
    'network-configuration': {
      type: 'object',
      description:
        "awsvpc networking of the task; default the flavor's service's",
      additionalProperties: false,
      required: ['subnets'],
      properties: {
        subnets: {
          type: 'array',
          minItems: 1,
          items: { type: 'string', minLength: 1 }
        },
        'security-groups': {
          type: 'array',
          items: { type: 'string', minLength: 1 }
        },
        'assign-public-ip': { enum: ['ENABLED', 'DISABLED'] }
      }
    },
    timeout: {
      ...duration,
      description:
        'How long the task may take until STOPPED (default 15m); it is stopped and the deploy fails after that'
    }
  }
}

/** The manifest schema (JSON Schema draft-07, as Ajv's default). */
export const flavorManifestSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://github.com/acme/ecs-release-train/schemas/ecs-flavors.schema.json',
  title: 'ECS flavor manifest',
  description:
    'The service flavors of one monolith image, the environments they run in, and how each is deployed and judged',
  type: 'object',
  additionalProperties: false,
  required: ['environments', 'flavors'],
  properties: {
    defaults: {
      type: 'object',
      additionalProperties: false,
      properties: { health }
    },
    environments: {
      type: 'object',
      description: 'Environment name to where its services live',
      minProperties: 1,
      propertyNames: name,
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['cluster', 'service-name'],
        properties: {
          cluster: { type: 'string', minLength: 1 },
          region: {
            type: 'string',
            pattern: '^[a-z]{2}(-[a-z]+)+-\\d+$',
            description: 'AWS region; else AWS_REGION of the job'
          },
          'service-name': {
            type: 'string',
            minLength: 1,
            description:
              'Service name of a flavor; {flavor} and {environment} are replaced'
          },
          rollout: {
            enum: ['waves', 'all-at-once'],
            description:
              'waves (default): one wave after the other, each healthy before the next; all-at-once: every selected flavor together'
          },
          'pre-deploy': preDeploy,
          health
        }
      }
    },
    flavors: {
      type: 'array',
      description: 'The flavors, in deploy order within a wave',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'containers'],
        properties: {
          name,
          service: {
            type: 'string',
            minLength: 1,
            description:
              "Explicit service name ({flavor} and {environment} are replaced); else the environment's service-name"
          },
          containers: {
            type: 'array',
            description:
              'Containers of the task definition that receive the image',
            minItems: 1,
            uniqueItems: true,
            items: { type: 'string', minLength: 1 }
          },
          wave: {
            type: 'integer',
            minimum: 0,
            description: 'Lower waves deploy first (default 1)'
          },
          'desired-count': {
            type: 'integer',
            minimum: 0,
            description:
              "Tasks the service runs, set with every update of it; default: the service's current count"
          },
          cpu: {
            type: 'string',
            pattern: '^\\d+$',
            description: 'Task-level CPU units, e.g. "1024"'
          },
          memory: {
            type: 'string',
            pattern: '^\\d+$',
            description: 'Task-level memory in MiB, e.g. "2048"'
          },
          'container-memory': {
            type: 'object',
            description:
              'Hard memory limit in MiB per container name; ECS kills a container that exceeds it',
            minProperties: 1,
            additionalProperties: { type: 'integer', minimum: 6 }
          },
          environment: {
            type: 'object',
            description:
              'Variables set (added or replaced) on the image containers',
            propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
            additionalProperties: { type: ['string', 'number', 'boolean'] }
          },
          command: {
            type: 'array',
            description: 'Command of the image containers',
            minItems: 1,
            items: { type: 'string' }
          },
          health
        }
      }
    }
  }
} as const
