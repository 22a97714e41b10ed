export { MotionDetector, type MotionDiagnostics, type MotionResult } from "./motion-detector.js";
export { tuningFor, type Tuning } from "./tuning.js";
