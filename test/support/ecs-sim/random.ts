/**
 * A small seedable generator (mulberry32): the same seed gives the same
 * fault decisions and the same ids, so a failing run can be replayed.
 */
export class SeededRandom {
  private state: number

  constructor(seed: number) {
    this.state = seed >>> 0
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  hex(length: number): string {
    let out = ''
    while (out.length < length) {
      out += Math.floor(this.next() * 16).toString(16)
    }
    return out
  }

  digits(length: number): string {
    let out = String(1 + Math.floor(this.next() * 9))
    while (out.length < length) out += String(Math.floor(this.next() * 10))
    return out
  }

  uuid(): string {
    const h = this.hex(32)
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
  }
}
