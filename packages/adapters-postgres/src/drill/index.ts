export { createLocalPair } from '../local-cluster.js'
