/**
 * crowdline's one way in to onnxruntime-node: importing ONNX Runtime from
 * here applies the settings it must have before this thread's first session.
 */
import ort from 'onnxruntime-node';
import { disableOrtTelemetryUnlessSet } from './ort-env.js';

// ONNX Runtime prints its warnings as plain text on stderr, where the server's JSON log lines go
// (at its default level a host without a CA bundle got one line per worker at start). Errors
// still print; what matters to an operator is reported through our own log lines. Read once,
// when this thread creates its first session.
ort.env.logLevel = 'error';
// A session created on the main thread (tools, benches, tests) gets the pool's telemetry default.
disableOrtTelemetryUnlessSet();

export default ort;
