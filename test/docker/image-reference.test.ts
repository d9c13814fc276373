import { describe, expect, it } from '@jest/globals'
import {
  builtImage,
  formatImageReference,
  parseImageName,
  parseImageReference,
  parseTag
} from '../../src/docker/image-reference.js'

const digest = 'sha256:' + 'b'.repeat(64)

interface Expected {
  host?: string
  path: string
  tag?: string
  digest?: string
}

describe('parseImageReference', () => {
  it.each<[string, Expected]>([
    ['monolith:1.2.3', { path: 'monolith', tag: '1.2.3' }],
    [
      `123456789012.dkr.ecr.us-east-1.amazonaws.com/monolith@${digest}`,
      {
        host: '123456789012.dkr.ecr.us-east-1.amazonaws.com',
        path: 'monolith',
        digest
      }
    ],
    [
      `localhost:5000/acme/monolith:v1@${digest}`,
      { host: 'localhost:5000', path: 'acme/monolith', tag: 'v1', digest }
    ],
    // What ECS reports for an image run as :latest implicitly.
    ['registry.local/monolith', { host: 'registry.local', path: 'monolith' }],
    // Docker's grammar: an uppercase first component is a host.
    [
      'Reg.Example:5000/app:1',
      { host: 'Reg.Example:5000', path: 'app', tag: '1' }
    ],
    ['reg.example/a--b:1', { host: 'reg.example', path: 'a--b', tag: '1' }],
    ['team/a__b.c_d:1', { path: 'team/a__b.c_d', tag: '1' }]
  ])('accepts %s', (value, expected) => {
    const parsed = parseImageReference('image', value)
    const repository = expected.host
      ? `${expected.host}/${expected.path}`
      : expected.path
    expect(parsed).toEqual({ ...expected, repository })
    expect(formatImageReference(parsed)).toBe(value)
  })

  it('is the grammar build and deploy share', () => {
    for (const name of ['Reg.Example:5000/app', 'reg.example/a--b']) {
      expect(parseImageName('image', name).repository).toBe(name)
      expect(parseTag('tags', parseImageName('image', name), 'v1')).toBe(
        `${name}:v1`
      )
      expect(parseImageReference('image', `${name}:v1`).repository).toBe(name)
    }
  })

  it.each([
    ['monolith@sha256:abc', 'has a digest that is not sha256:<64 hex>'],
    ['Monolith:1', 'has a repository name that is not valid'],
    ['monolith:bad tag', 'is not an image reference'],
    ['monolith:-x', 'has a tag that is not valid'],
    ['team/a___b:1', 'has a repository name that is not valid'],
    ['-reg.example/app:1', 'has a repository name that is not valid'],
    [`${'a'.repeat(256)}:1`, 'has a repository name that is not valid']
  ])('refuses %s', (value, why) => {
    expect(() => parseImageReference('image', value)).toThrow(
      `Input "image" has "${value}", which ${why}`
    )
  })
})

describe('builtImage: the forms the build outputs', () => {
  const ecr = parseImageName(
    'image',
    '123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/monolith'
  )

  it('a pushed image: repository@digest, and path@digest without the host (no account id to mask)', () => {
    const built = builtImage(ecr, digest, [`${ecr.repository}:v1`])
    expect(built).toEqual({
      image: `123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/monolith@${digest}`,
      imagePath: `team/monolith@${digest}`
    })
    expect(built.imagePath).not.toContain('123456789012')
    // Joined to the registry again, it is the image itself.
    expect(`${ecr.host}/${built.imagePath}`).toBe(built.image)
    expect(parseImageReference('image', built.imagePath)).toEqual({
      path: 'team/monolith',
      repository: 'team/monolith',
      digest
    })
  })

  it('nothing pushed (no digest): the first tag, and no path form to give', () => {
    expect(builtImage(ecr, undefined, [`${ecr.repository}:v1`])).toEqual({
      image: `${ecr.repository}:v1`,
      imagePath: ''
    })
  })
})
