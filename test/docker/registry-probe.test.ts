import { describe, expect, it } from '@jest/globals'
import {
  probeRegistry,
  registryBaseUrl,
  type FetchLike
} from '../../src/docker/registry-probe.js'
import {
  branchSlug,
  parseImageName,
  parseTag
} from '../../src/docker/image-reference.js'

function fakeFetch(answers: Record<string, number | Error>): {
  fetch: FetchLike
  calls: string[]
} {
  const calls: string[] = []
  const fetch: FetchLike = async (url, init) => {
    const key = `${init?.method ?? 'GET'} ${url}`
    calls.push(key)
    const answer = answers[key] ?? 404
    if (answer instanceof Error) throw answer
    return {
      status: answer,
      headers: {
        get: (name: string) =>
          name === 'location' ? '/v2/app/blobs/uploads/u1' : null
      }
    }
  }
  return { fetch, calls }
}

describe('probeRegistry', () => {
  it('is writable when a blob upload is accepted, and cancels the upload', async () => {
    const { fetch, calls } = fakeFetch({
      'GET http://localhost:5000/v2/': 200,
      'POST http://localhost:5000/v2/app/blobs/uploads/': 202,
      'DELETE http://localhost:5000/v2/app/blobs/uploads/u1': 204
    })
    expect((await probeRegistry('localhost:5000', 'app', fetch)).access).toBe(
      'writable'
    )
    expect(calls).toContain(
      'DELETE http://localhost:5000/v2/app/blobs/uploads/u1'
    )
  })

  it('is read-only when uploads are refused or no credentials exist for an auth registry', async () => {
    const refused = fakeFetch({
      'GET https://reg.example.com/v2/': 200,
      'POST https://reg.example.com/v2/app/blobs/uploads/': 403
    })
    expect(
      (await probeRegistry('reg.example.com', 'app', refused.fetch)).access
    ).toBe('read-only')
    const auth = fakeFetch({ 'GET https://reg.example.com/v2/': 401 })
    expect(
      (
        await probeRegistry(
          'reg.example.com',
          'app',
          auth.fetch,
          100,
          () => false
        )
      ).access
    ).toBe('read-only')
    expect(
      (
        await probeRegistry(
          'reg.example.com',
          'app',
          auth.fetch,
          100,
          () => true
        )
      ).access
    ).toBe('writable')
  })

  it('is unreachable on a connection error or a 5xx, without throwing', async () => {
    const down = fakeFetch({
      'GET http://127.0.0.1:1/v2/': new TypeError('fetch failed')
    })
    expect((await probeRegistry('127.0.0.1:1', 'app', down.fetch)).access).toBe(
      'unreachable'
    )
    const broken = fakeFetch({ 'GET http://localhost:5000/v2/': 503 })
    expect(
      (await probeRegistry('localhost:5000', 'app', broken.fetch)).access
    ).toBe('unreachable')
  })

  it('uses plain HTTP for loopback only', () => {
    expect(registryBaseUrl('127.0.0.1:5000')).toBe('http://127.0.0.1:5000')
    expect(registryBaseUrl('123.dkr.ecr.eu-west-1.amazonaws.com')).toBe(
      'https://123.dkr.ecr.eu-west-1.amazonaws.com'
    )
  })
})

describe('image references', () => {
  it('splits host and path, and rejects bad names naming the input', () => {
    expect(parseImageName('image', 'localhost:5000/team/app')).toEqual({
      host: 'localhost:5000',
      path: 'team/app',
      repository: 'localhost:5000/team/app'
    })
    expect(parseImageName('image', 'app').host).toBeUndefined()
    expect(() => parseImageName('image', 'App:1')).toThrow(
      /Input "image" has "App:1"/
    )
  })

  it('puts bare tags on the image and checks full ones', () => {
    const image = parseImageName('image', 'localhost:5000/app')
    expect(parseTag('tags', image, 'v1.2')).toBe('localhost:5000/app:v1.2')
    expect(parseTag('tags', image, 'localhost:5000/other:x')).toBe(
      'localhost:5000/other:x'
    )
    expect(() => parseTag('tags', image, 'bad tag!')).toThrow(
      /Input "tags" has "bad tag!"/
    )
    expect(() => parseTag('tags', image, '-lead')).toThrow(/not a valid tag/)
    expect(() => parseTag('tags', image, 'localhost:5000/app:')).toThrow(
      /not a valid tag/
    )
  })

  it('slugs branches for tags and scopes', () => {
    expect(branchSlug('refs/heads/release/2024.06')).toBe('release-2024.06')
    expect(branchSlug('Feature/ÜBER_cool')).toBe('feature-ber_cool')
    expect(branchSlug('')).toBe('detached')
  })
})
