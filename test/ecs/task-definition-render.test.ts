import { describe, expect, it } from '@jest/globals'
import { ConfigurationError } from '../../src/common/errors.js'
import {
  diffTaskDefinitions,
  formatChanges
} from '../../src/ecs/task-definition-diff.js'
import {
  imageOf,
  READ_ONLY_TASK_DEFINITION_FIELDS,
  registrableTaskDefinition,
  renderTaskDefinition
} from '../../src/ecs/task-definition-render.js'
import { describedTaskDefinition } from '../support/task-definitions.js'

const image = 'registry.example/monolith@sha256:' + 'a'.repeat(64)

describe('renderTaskDefinition', () => {
  it('swaps the image on the named containers only and drops read-only fields', () => {
    const rendered = renderTaskDefinition(describedTaskDefinition(), {
      containers: ['app'],
      image
    })
    for (const field of READ_ONLY_TASK_DEFINITION_FIELDS) {
      expect(rendered).not.toHaveProperty(field)
    }
    expect(rendered.containerDefinitions?.[0].image).toBe(image)
    expect(rendered.containerDefinitions?.[1].image).toBe('fluent-bit:3')
    // Everything else is kept as it was.
    expect(rendered.executionRoleArn).toBe(
      'arn:aws:iam::123456789012:role/exec'
    )
    expect(rendered.containerDefinitions?.[0].secrets).toEqual([
      { name: 'DB_URL', valueFrom: 'arn:aws:ssm:db' }
    ])
    expect(rendered.family).toBe('monolith-web')
  })

  it('does not modify the described task definition', () => {
    const described = describedTaskDefinition()
    const before = structuredClone(described)
    renderTaskDefinition(described, {
      containers: ['app'],
      image,
      environmentVariables: { X: '1' }
    })
    expect(described).toEqual(before)
  })

  it('applies cpu, memory, per-container memory, environment and command', () => {
    const rendered = renderTaskDefinition(describedTaskDefinition(), {
      containers: ['app'],
      image,
      cpu: '1024',
      memory: '2048',
      containerMemory: { app: 1800, 'log-router': 200 },
      environmentVariables: { DJANGO_MODE: 'api', NEW_FLAG: 'on' },
      command: ['gunicorn', 'monolith.api']
    })
    expect(rendered.cpu).toBe('1024')
    expect(rendered.memory).toBe('2048')
    const [app, router] = rendered.containerDefinitions ?? []
    expect(app.memory).toBe(1800)
    expect(router.memory).toBe(200)
    expect(app.environment).toEqual([
      { name: 'DJANGO_MODE', value: 'api' },
      { name: 'LOG_LEVEL', value: 'info' },
      { name: 'NEW_FLAG', value: 'on' }
    ])
    expect(app.command).toEqual(['gunicorn', 'monolith.api'])
    expect(router.command).toBeUndefined()
  })

  it('names a container the task definition lacks and lists those it has', () => {
    expect(() =>
      renderTaskDefinition(describedTaskDefinition(), {
        containers: ['app', 'web'],
        image
      })
    ).toThrow(
      new ConfigurationError(
        'Task definition monolith-web has no container "web"; its containers: app, log-router'
      )
    )
  })

  it('refuses container limits that do not fit in the task memory', () => {
    expect(() =>
      renderTaskDefinition(describedTaskDefinition(), {
        containers: ['app'],
        image,
        containerMemory: { app: 1000 }
      })
    ).toThrow(/add up to 1100 MiB, more than the task's 1024 MiB/)
  })

  it('reports the image of the first named container', () => {
    expect(imageOf(describedTaskDefinition(), ['app'])).toBe(
      'registry.example/monolith:1.0'
    )
    expect(imageOf(describedTaskDefinition(), ['nope'])).toBeUndefined()
  })
})

describe('diffTaskDefinitions', () => {
  it('finds nothing when the render equals the running definition (no-op)', () => {
    const described = describedTaskDefinition()
    const same = renderTaskDefinition(described, {
      containers: ['app'],
      image: 'registry.example/monolith:1.0',
      environmentVariables: { DJANGO_MODE: 'web' },
      command: ['gunicorn', 'monolith.wsgi'],
      cpu: '512'
    })
    expect(
      diffTaskDefinitions(registrableTaskDefinition(described), same)
    ).toEqual([])
  })

  it('names each changed field by container and variable name', () => {
    const described = describedTaskDefinition()
    const rendered = renderTaskDefinition(described, {
      containers: ['app'],
      image,
      memory: '2048',
      environmentVariables: { DJANGO_MODE: 'api', NEW_FLAG: 'on' }
    })
    const changes = diffTaskDefinitions(
      registrableTaskDefinition(described),
      rendered
    )
    expect(changes).toEqual([
      { path: 'memory', before: '1024', after: '2048' },
      {
        path: 'containerDefinitions[app].image',
        before: 'registry.example/monolith:1.0',
        after: image
      },
      {
        path: 'containerDefinitions[app].environment[DJANGO_MODE].value',
        before: 'web',
        after: 'api'
      },
      {
        path: 'containerDefinitions[app].environment[NEW_FLAG]',
        after: { name: 'NEW_FLAG', value: 'on' }
      }
    ])
    expect(formatChanges(changes)).toBe(
      [
        '~ memory: "1024" → "2048"',
        `~ containerDefinitions[app].image: "registry.example/monolith:1.0" → "${image}"`,
        '~ containerDefinitions[app].environment[DJANGO_MODE].value: "web" → "api"',
        '+ containerDefinitions[app].environment[NEW_FLAG]: {"name":"NEW_FLAG","value":"on"}'
      ].join('\n')
    )
  })

  it('treats a command as one value and shows removed fields', () => {
    expect(
      diffTaskDefinitions(
        { command: ['a', 'b'], pidMode: 'task' },
        { command: ['a', 'c'] }
      )
    ).toEqual([
      { path: 'command', before: ['a', 'b'], after: ['a', 'c'] },
      { path: 'pidMode', before: 'task' }
    ])
    expect(formatChanges([{ path: 'pidMode', before: 'task' }])).toBe(
      '- pidMode: "task"'
    )
    expect(formatChanges([])).toBe('(no change)')
  })

  it('ignores empty lists that one side omits', () => {
    expect(diffTaskDefinitions({ volumes: [] }, {})).toEqual([])
  })
})
