/**
 * A still picture as a YUV4MPEG2 video (one frame, 4:2:0), the format Chromium's fake camera
 * plays (--use-file-for-fake-video-capture), looping it: a voucher held up to the camera.
 */
import { PNG } from 'pngjs';

/** The frame of an RGBA PNG, cropped to even dimensions (4:2:0 halves both). */
export function pngToY4m(png: Buffer): Buffer {
  const image = PNG.sync.read(png);
  const width = image.width & ~1;
  const height = image.height & ~1;
  const luma = Buffer.alloc(width * height);
  const cb = Buffer.alloc((width / 2) * (height / 2));
  const cr = Buffer.alloc((width / 2) * (height / 2));
  const rgb = (x: number, y: number) => {
    const i = (y * image.width + x) * 4;
    return [image.data[i]!, image.data[i + 1]!, image.data[i + 2]!] as const;
  };
  const clamp = (v: number) => Math.max(0, Math.min(255, Math.round(v)));
  // BT.601 full range, as the C420jpeg colour space says.
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const [r, g, b] = rgb(x, y);
      luma[y * width + x] = clamp(0.299 * r + 0.587 * g + 0.114 * b);
    }
  }
  for (let y = 0; y < height; y += 2) {
    for (let x = 0; x < width; x += 2) {
      let [r, g, b] = [0, 0, 0];
      for (const [dx, dy] of [
        [0, 0],
        [1, 0],
        [0, 1],
        [1, 1],
      ] as const) {
        const [pr, pg, pb] = rgb(x + dx, y + dy);
        r += pr / 4;
        g += pg / 4;
        b += pb / 4;
      }
      const i = (y / 2) * (width / 2) + x / 2;
      cb[i] = clamp(128 - 0.168736 * r - 0.331264 * g + 0.5 * b);
      cr[i] = clamp(128 + 0.5 * r - 0.418688 * g - 0.081312 * b);
    }
  }
  const header = Buffer.from(`YUV4MPEG2 W${width} H${height} F10:1 Ip A1:1 C420jpeg\nFRAME\n`, 'ascii');
  return Buffer.concat([header, luma, cb, cr]);
}
