/**
 * Process-wide ONNX Runtime settings that must be in place before ONNX Runtime
 * starts in any thread of the process.
 */
import { isMainThread } from 'node:worker_threads';

/**
 * onnxruntime-node 1.30's Linux library carries Microsoft's telemetry client:
 * creating a session records events (OS, program path, a device id kept in
 * ~/.cache/Microsoft/DeveloperTools/.onnxruntime/) in a local database queued
 * for upload. A crowd-counting server on a camera network should send nothing
 * its operator did not configure, so crowdline sets ORT_DISABLE_TELEMETRY=1
 * unless the operator set that variable (to any value) themselves.
 *
 * ONNX Runtime reads the variable with getenv(), which sees the main thread's
 * environment only (a worker thread's process.env is a private copy), so this
 * runs on the main thread before the first worker or session starts.
 */
export function disableOrtTelemetryUnlessSet(): void {
  if (isMainThread && process.env.ORT_DISABLE_TELEMETRY === undefined) process.env.ORT_DISABLE_TELEMETRY = '1';
}
