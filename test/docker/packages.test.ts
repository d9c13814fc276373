import { describe, expect, it } from '@jest/globals'
import {
  diffPackages,
  matchingChanges,
  parseDpkgStatus,
  parsePackageListing,
  parsePythonDists
} from '../../src/docker/packages.js'

const status = `Package: libpq5
Status: install ok installed
Architecture: amd64
Version: 15.18-0+deb12u1

Package: oldlib
Status: deinstall ok config-files
Version: 1.0

Package: tzdata
Status: install ok installed
Version: 2026b-0+deb12u1
`

describe('package listing', () => {
  it('reads installed dpkg packages only', () => {
    expect([...parseDpkgStatus(status)]).toEqual([
      ['libpq5', '15.18-0+deb12u1'],
      ['tzdata', '2026b-0+deb12u1']
    ])
  })

  it('reads dist-info and egg-info folders with normalised names', () => {
    const dists = parsePythonDists([
      '/usr/lib/python3/dist-packages/Django-3.2.25.egg-info',
      '/usr/lib/python3/dist-packages/psycopg2-2.9.5.egg-info',
      '/usr/local/lib/python3.11/site-packages/typing_extensions-4.12.2.dist-info',
      '/usr/lib/python3/dist-packages/celery-5.2.6-py3.11.egg-info',
      '/usr/lib/python3/dist-packages/not-a-dist'
    ])
    expect(Object.fromEntries(dists)).toEqual({
      django: '3.2.25',
      psycopg2: '2.9.5',
      'typing-extensions': '4.12.2',
      celery: '5.2.6'
    })
  })

  it('splits the listing script output', () => {
    const set = parsePackageListing(
      `${status}--- python distributions ---\n/usr/lib/python3/dist-packages/redis-4.3.4.egg-info\n`
    )
    expect(set.os.get('libpq5')).toBe('15.18-0+deb12u1')
    expect(set.python.get('redis')).toBe('4.3.4')
  })
})

describe('diffPackages and matchingChanges', () => {
  const before = {
    os: new Map([
      ['libpq5', '9.1.24-1'],
      ['tzdata', '2024a'],
      ['gone', '1']
    ]),
    python: new Map([['django', '3.2.25']])
  }
  const after = {
    os: new Map([
      ['libpq5', '9.6.10-1'],
      ['tzdata', '2024a'],
      ['libpq-dev', '9.6.10-1']
    ]),
    python: new Map([['django', '4.2.0']])
  }
  const changes = diffPackages(before, after)

  it('lists added, removed and changed packages, OS first', () => {
    expect(changes).toEqual([
      { kind: 'os', name: 'gone', change: 'removed', before: '1' },
      { kind: 'os', name: 'libpq-dev', change: 'added', after: '9.6.10-1' },
      {
        kind: 'os',
        name: 'libpq5',
        change: 'changed',
        before: '9.1.24-1',
        after: '9.6.10-1'
      },
      {
        kind: 'python',
        name: 'django',
        change: 'changed',
        before: '3.2.25',
        after: '4.2.0'
      }
    ])
  })

  it('matches globs, optionally limited to a kind', () => {
    expect(matchingChanges(changes, ['libpq*']).map((c) => c.name)).toEqual([
      'libpq-dev',
      'libpq5'
    ])
    expect(
      matchingChanges(changes, ['python:Django']).map((c) => c.name)
    ).toEqual(['django'])
    expect(matchingChanges(changes, ['os:django'])).toEqual([])
    expect(matchingChanges(changes, ['tzdata'])).toEqual([])
  })

  it('reads [...] as a character class, as branch globs do', () => {
    expect(matchingChanges(changes, ['libpq[0-9]']).map((c) => c.name)).toEqual(
      ['libpq5']
    )
  })
})
