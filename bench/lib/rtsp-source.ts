// A network camera on loopback for benchmarks: GStreamer's RTSP server (Debian's
// gir1.2-gst-rtsp-server-1.0, driven from Python through python3-gi, since Debian packages the
// library but not its `test-launch` example) plays a folder of raw frames in a loop, at the
// frame rate, through x264enc (Debian's gstreamer1.0-plugins-ugly), as one H.264 RTSP stream
// that every client shares: like an IP camera, it encodes once and all clients get the same
// bits.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";

const SERVER_PY = `
import sys, gi
gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import Gst, GstRtspServer, GLib
Gst.init(None)
pattern, count, port, kbps, fps, w, h, gop = sys.argv[1:9]
launch = (
    f"( multifilesrc location={pattern} index=1 start-index=1 stop-index={count} loop=true "
    f"caps=video/x-raw,format=I420,width={w},height={h},framerate={fps}/1 ! rawvideoparse use-sink-caps=true ! "
    f"x264enc tune=zerolatency speed-preset=veryfast bitrate={kbps} key-int-max={gop} ! video/x-h264,profile=main ! "
    f"rtph264pay name=pay0 pt=96 config-interval=1 )"
)
server = GstRtspServer.RTSPServer()
server.set_address("127.0.0.1")
server.set_service(port)
factory = GstRtspServer.RTSPMediaFactory()
factory.set_launch(launch)
factory.set_shared(True)
server.get_mount_points().add_factory("/cam", factory)
if server.attach(None) == 0:
    sys.exit("could not listen on port " + port)
print("ready", flush=True)
GLib.MainLoop().run()
`;

export interface RtspSourceOptions {
  /** printf-style path of the raw I420 frames, numbered from 1: /tmp/x/%04d.yuv */
  pattern: string;
  count: number;
  width: number;
  height: number;
  fps: number;
  kbps: number;
  /** Frames between keyframes. */
  gop: number;
  port: number;
}

export interface RtspSource {
  url: string;
  pid: number;
  launch: string;
  stop(): Promise<void>;
}

/** Starts the server and resolves once it listens. Uses Debian's python3 (where python3-gi is). */
export async function startRtspSource(o: RtspSourceOptions): Promise<RtspSource> {
  const child: ChildProcess = spawn("/usr/bin/python3", ["-c", SERVER_PY, o.pattern, String(o.count), String(o.port), String(o.kbps), String(o.fps), String(o.width), String(o.height), String(o.gop)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr?.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`RTSP source did not start in 10 s: ${err}`)), 10_000);
    child.stdout?.on("data", (d: Buffer) => {
      if (d.toString().includes("ready")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`RTSP source exited (${code}): ${err}`));
    });
  });
  return {
    url: `rtsp://127.0.0.1:${o.port}/cam`,
    pid: child.pid as number,
    launch: `multifilesrc (raw I420 ${o.width}x${o.height}@${o.fps}, looped) ! x264enc tune=zerolatency speed-preset=veryfast bitrate=${o.kbps} key-int-max=${o.gop} ! main profile ! rtph264pay, shared media`,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      await Promise.race([once(child, "exit"), new Promise((r) => setTimeout(r, 3_000))]);
      if (child.exitCode === null) child.kill("SIGKILL");
    },
  };
}
