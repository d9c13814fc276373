import { describe, expect, it } from '@jest/globals'
import {
  cacheExporters,
  detectBuilder,
  speaksCacheV2
} from '../../src/docker/builder-info.js'
import type { CommandRunner } from '../../src/common/command-runner.js'

/** A runner that answers `docker buildx inspect` and `docker info` from a script. */
function scripted(answers: Record<string, string | Error>): {
  runner: CommandRunner
  calls: string[]
} {
  const calls: string[] = []
  const runner: CommandRunner = async (_command, args) => {
    const line = args.join(' ')
    calls.push(line)
    const answer = answers[line]
    if (answer instanceof Error) {
      return { exitCode: 1, stdout: '', stderr: `ERROR: ${answer.message}\n` }
    }
    if (answer === undefined) throw new Error(`unexpected: ${line}`)
    return { exitCode: 0, stdout: answer, stderr: '' }
  }
  return { runner, calls }
}

const containerInspect = `Name:          ert-buildkit
Driver:        docker-container
Last Activity: 2026-12-01 12:00:00 +0000 UTC

Nodes:
Name:                  ert-buildkit0
Endpoint:              unix:///var/run/docker.sock
Driver Options:        image="localhost:5000/buildkit:v0.25.2" network="host"
Status:                running
BuildKit version:      v0.25.2
`

const INFO = 'info --format {{.ServerVersion}} {{json .DriverStatus}}'
const containerdInfo =
  '28.5.2 [["driver-type","io.containerd.snapshotter.v1"]]\n'
const dockerInspect = `Name:          default
Driver:        docker

Nodes:
Name:             default
Endpoint:         default
Status:           running
BuildKit version: v0.0.0+unknown
`

describe('detectBuilder', () => {
  it('takes the builder the input names: a docker-container builder has every exporter and no engine store question', async () => {
    const { runner, calls } = scripted({
      'buildx inspect ert-buildkit': containerInspect,
      [INFO]: containerdInfo
    })
    const builder = await detectBuilder(runner, 'ert-buildkit')
    expect(builder).toEqual({
      name: 'ert-buildkit',
      driver: 'docker-container',
      containerdStore: false,
      buildkit: [0, 25],
      engineMajor: undefined
    })
    expect([...cacheExporters(builder)].sort()).toEqual([
      'gha',
      'inline',
      'local',
      'registry'
    ])
    expect(speaksCacheV2(builder)).toBe(true)
    // The engine's image store does not matter to a container builder: the
    // answer, asked beside the inspect to save a round trip, is not used.
    expect(calls.sort()).toEqual(['buildx inspect ert-buildkit', INFO])
  })

  it('without the input, the current builder (BUILDX_BUILDER or docker buildx use) is inspected', async () => {
    const { runner, calls } = scripted({
      'buildx inspect': containerInspect,
      [INFO]: containerdInfo
    })
    expect((await detectBuilder(runner)).driver).toBe('docker-container')
    expect(calls).toContain('buildx inspect')
  })

  it('the docker driver takes the engine version and image store from docker info, asked at the same time', async () => {
    let inFlight = 0
    let most = 0
    const { runner: answer } = scripted({
      'buildx inspect': dockerInspect,
      [INFO]: containerdInfo
    })
    const runner: CommandRunner = async (command, args, options) => {
      most = Math.max(most, ++inFlight)
      await new Promise((resolve) => setTimeout(resolve, 5))
      inFlight--
      return answer(command, args, options)
    }
    expect(await detectBuilder(runner)).toEqual({
      name: 'default',
      driver: 'docker',
      containerdStore: true,
      buildkit: undefined,
      engineMajor: 28
    })
    expect(most).toBe(2)
  })

  it('a builder input buildx does not know is refused naming the input and the value', async () => {
    const { runner } = scripted({
      'buildx inspect ci-builder': new Error('no builder "ci-builder" found'),
      [INFO]: containerdInfo
    })
    await expect(detectBuilder(runner, 'ci-builder')).rejects.toThrow(
      /^Input "builder" has "ci-builder", which buildx cannot use here \(docker buildx inspect ci-builder: ERROR: no builder "ci-builder" found\)/
    )
  })
})
