import { afterEach, describe, expect, it } from '@jest/globals'
import {
  getBoolean,
  getChoice,
  getDurationSeconds,
  getInteger,
  getList,
  getOptionalInput,
  getRequiredInput
} from '../../src/common/inputs.js'
import { clearInputs, setInputs } from '../support/action-inputs.js'

function setInput(name: string, value: string): void {
  setInputs({ [name]: value })
}

afterEach(() => {
  clearInputs()
})

describe('input parsers', () => {
  it('requires a required input by name', () => {
    expect(() => getRequiredInput('image')).toThrow('Input "image" is required')
    setInput('image', '  repo:tag ')
    expect(getRequiredInput('image')).toBe('repo:tag')
  })

  it('returns undefined for an empty optional input', () => {
    setInput('target', '')
    expect(getOptionalInput('target')).toBeUndefined()
  })

  it('parses booleans and names a bad one', () => {
    expect(getBoolean('wait', true)).toBe(true)
    setInput('wait', 'false')
    expect(getBoolean('wait', true)).toBe(false)
    setInput('wait', 'yes')
    expect(() => getBoolean('wait', true)).toThrow('Input "wait" has "yes"')
  })

  it('splits lists on newlines and commas', () => {
    setInput('tags', 'a, b\n\nc\n')
    expect(getList('tags')).toEqual(['a', 'b', 'c'])
  })

  it('parses durations, integers and choices with named errors', () => {
    setInput('startup-grace', '10m')
    expect(getDurationSeconds('startup-grace', 0)).toBe(600)
    setInput('failure-budget', '-1')
    expect(() => getInteger('failure-budget', 0)).toThrow(
      'Input "failure-budget" has "-1"'
    )
    setInput('cache', 'cloud')
    expect(() => getChoice('cache', ['auto', 'none'] as const, 'auto')).toThrow(
      'Input "cache" has "cloud"; expected one of: auto, none'
    )
  })
})
