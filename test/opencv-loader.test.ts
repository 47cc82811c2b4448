/**
 * How the client loads OpenCV. The binding's own Mat allocator reports pixels to V8 from each Mat's
 * destructor through v8::Isolate::GetCurrent(); when the last GC runs during Node's isolate teardown
 * that is null, and a demo or client that had finished its work died of SIGSEGV (a core from a demo
 * run: cv::Mat::release -> v8::Isolate::AdjustAmountOfExternalAllocatedMemory with the isolate null,
 * under node::IsolateData::~IsolateData). The loader turns that allocator off.
 */
import test from 'ava';
import { loadOpenCV } from '../client/opencv.js';

test('the client loads OpenCV with plain allocation: no Mat destructor calls into V8', async (t) => {
  const cv = await loadOpenCV();
  t.false(cv.isCustomMatAllocatorEnabled());
  // Mats still work and are still freed (by their wrappers' finalizers or release()).
  const mat = new cv.Mat(4, 6, cv.CV_8UC3, [1, 2, 3]);
  t.deepEqual(mat.getDataAsArray()[3][5], [1, 2, 3]);
  mat.release();
  t.is(mat.rows, 0);
});
