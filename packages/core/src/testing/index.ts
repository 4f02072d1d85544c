/**
 * Conformance suites for the ports of `@baton/core`: every adapter runs the
 * suite of each port it implements.
 *
 * @module
 */
export {}
