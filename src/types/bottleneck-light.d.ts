// plugin-throttling's own Bottleneck build, typed as the full package it
// is a subset of (clustering aside).
declare module 'bottleneck/light.js' {
  import Bottleneck from 'bottleneck'
  export default Bottleneck
}
