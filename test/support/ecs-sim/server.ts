import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse
} from 'node:http'
import { ECR_TARGET_PREFIX } from './ecr.js'
import { addRunTaskOutcome, type RunTaskOutcome } from './run-task.js'
import type { SimCore, WorldSeed } from './simulator.js'

/** Every ECS request names its operation in this header, after this prefix. */
export const TARGET_PREFIX = 'AmazonEC2ContainerServiceV20141113.'

const MAX_BODY = 5 * 1024 * 1024

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY) throw new Error('request body too large')
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks).toString('utf8')
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {}
): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-length': Buffer.byteLength(text),
    ...headers
  })
  res.end(text)
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name]
  return Array.isArray(v) ? v[0] : v
}

async function handleEcs(
  core: SimCore,
  req: IncomingMessage,
  res: ServerResponse
): Promise<void> {
  const target = header(req, 'x-amz-target') ?? ''
  const text = await readBody(req)
  const requestId = core.world.ids.uuid()
  const jsonHeaders = {
    'content-type': 'application/x-amz-json-1.1',
    'x-amzn-requestid': requestId
  }
  // ECR shares the endpoint (AWS_ENDPOINT_URL_ECR); its operations are
  // logged and faulted as `ecr:<Operation>`.
  const operation = target.startsWith(TARGET_PREFIX)
    ? target.slice(TARGET_PREFIX.length)
    : target.startsWith(ECR_TARGET_PREFIX)
      ? `ecr:${target.slice(ECR_TARGET_PREFIX.length)}`
      : undefined
  if (operation === undefined) {
    send(
      res,
      400,
      {
        __type: 'UnknownOperationException',
        message: `X-Amz-Target must start with ${TARGET_PREFIX} or ${ECR_TARGET_PREFIX}`
      },
      { ...jsonHeaders, 'x-amzn-errortype': 'UnknownOperationException' }
    )
    return
  }
  let input: unknown
  try {
    input = text ? JSON.parse(text) : {}
  } catch {
    send(
      res,
      400,
      { __type: 'SerializationException', message: 'Malformed JSON body.' },
      { ...jsonHeaders, 'x-amzn-errortype': 'SerializationException' }
    )
    return
  }
  const attempt = /attempt=(\d+)/.exec(header(req, 'amz-sdk-request') ?? '')
  const out = await core.handle(operation, input, {
    invocationId: header(req, 'amz-sdk-invocation-id'),
    attempt: attempt ? Number(attempt[1]) : undefined
  })
  send(
    res,
    out.status,
    out.body,
    out.errorCode
      ? { ...jsonHeaders, 'x-amzn-errortype': out.errorCode }
      : jsonHeaders
  )
}

/** `/_sim/...`: the control API for a simulator run from the CLI. */
async function handleControl(
  core: SimCore,
  req: IncomingMessage,
  res: ServerResponse,
  path: string
): Promise<void> {
  const method = req.method ?? 'GET'
  const text = method === 'GET' ? '' : await readBody(req)
  const body = (text ? JSON.parse(text) : {}) as Record<string, unknown>
  const route = `${method} ${path}`
  switch (route) {
    case 'GET /_sim/health':
      return send(res, 200, { ok: true })
    case 'GET /_sim/state':
      return send(res, 200, core.state())
    case 'POST /_sim/advance': {
      const ms =
        typeof body.seconds === 'number' ? body.seconds * 1000 : Number(body.ms)
      core.advance(ms)
      return send(res, 200, { time: core.world.time, now: core.clock.now() })
    }
    case 'POST /_sim/speed':
      core.clock.setSpeed(Number(body.speed))
      return send(res, 200, { speed: core.clock.speed })
    case 'GET /_sim/faults':
      return send(res, 200, core.faults.get())
    case 'POST /_sim/faults':
      core.faults.set(body)
      return send(res, 200, core.faults.get())
    case 'GET /_sim/requests':
      return send(res, 200, core.requestLog)
    case 'DELETE /_sim/requests':
      core.requestLog.length = 0
      return send(res, 200, { cleared: true })
    case 'POST /_sim/behaviors':
      core.addBehavior({
        image: String(body.image),
        behavior: String(body.behavior)
      })
      return send(res, 200, { behaviors: core.world.behaviorRules })
    case 'POST /_sim/alarms':
      core.setAlarmState(String(body.alarmName), String(body.state))
      return send(res, 200, { alarmName: body.alarmName, state: body.state })
    case 'POST /_sim/rebalance':
      return send(res, 200, {
        stoppedTaskArns: core.rebalance(
          String(body.cluster),
          String(body.service),
          body.count === undefined ? 1 : Number(body.count)
        )
      })
    case 'POST /_sim/run-task-outcomes':
      addRunTaskOutcome(core.world, body as RunTaskOutcome)
      return send(res, 200, { added: body })
    case 'POST /_sim/world':
      core.loadWorld(body as WorldSeed)
      return send(res, 200, core.state())
    default:
      return send(res, 404, { error: `no control route ${route}` })
  }
}

/** The HTTP face: ECS on `POST /`, the control API under `/_sim/`. */
export function createSimServer(core: SimCore): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    const work = path.startsWith('/_sim/')
      ? handleControl(core, req, res, path)
      : req.method === 'POST'
        ? handleEcs(core, req, res)
        : Promise.resolve(send(res, 404, { error: 'ECS requests are POST /' }))
    work.catch((e: unknown) => {
      if (!res.headersSent) {
        send(res, 400, { error: e instanceof Error ? e.message : String(e) })
      } else {
        res.destroy()
      }
    })
  })
}
