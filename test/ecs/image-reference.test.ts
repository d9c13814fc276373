import { describe, expect, it } from '@jest/globals'
import { parseImageReference } from '../../src/ecs/image-reference.js'

const digest = 'sha256:' + 'b'.repeat(64)

describe('parseImageReference', () => {
  it.each([
    ['monolith:1.2.3', { repository: 'monolith', tag: '1.2.3' }],
    [
      `123456789012.dkr.ecr.us-east-1.amazonaws.com/monolith@${digest}`,
      {
        repository: '123456789012.dkr.ecr.us-east-1.amazonaws.com/monolith',
        digest
      }
    ],
    [
      `localhost:5000/acme/monolith:v1@${digest}`,
      { repository: 'localhost:5000/acme/monolith', tag: 'v1', digest }
    ]
  ])('accepts %s', (value, expected) => {
    expect(parseImageReference('image', value)).toEqual(expected)
  })

  it.each([
    ['monolith', 'has neither a tag nor a digest'],
    ['localhost:5000/monolith', 'has neither a tag nor a digest'],
    ['monolith@sha256:abc', 'has a digest that is not sha256:<64 hex>'],
    ['Monolith:1', 'has a repository name that is not valid'],
    ['monolith:bad tag', 'is not an image reference'],
    ['monolith:-x', 'has a tag that is not valid']
  ])('refuses %s', (value, why) => {
    expect(() => parseImageReference('image', value)).toThrow(
      `Input "image" has "${value}", which ${why}`
    )
  })
})
