// @ts-check
/**
 * The staff desk's QR reader: the device camera (getUserMedia, the back camera when there is
 * one) feeds frames to jsQR (served from node_modules like htmx); the first code read is put in
 * the code field and looked up, as if typed, and the camera is stopped. Typing stays the
 * fallback: without a camera API (an insecure origin, an old browser) the reader stays hidden.
 * The words shown come from the server (data-msg-* on the reader, web/strings.ts).
 */
(function () {
  'use strict';

  /** @type {(data: Uint8ClampedArray, width: number, height: number, options?: object) => {data: string} | null} */
  // @ts-expect-error -- jsQR.js defines a global
  var decode = window.jsQR;
  var root = /** @type {HTMLElement | null} */ (document.querySelector('[data-scanner]'));
  if (
    !root ||
    typeof decode !== 'function' ||
    !navigator.mediaDevices ||
    !navigator.mediaDevices.getUserMedia
  ) {
    return;
  }
  var scanner = root;
  var start = /** @type {HTMLButtonElement} */ (scanner.querySelector('[data-scan-start]'));
  var stop = /** @type {HTMLButtonElement} */ (scanner.querySelector('[data-scan-stop]'));
  var view = /** @type {HTMLElement} */ (scanner.querySelector('[data-scan-view]'));
  var video = /** @type {HTMLVideoElement} */ (scanner.querySelector('[data-scan-video]'));
  var status = /** @type {HTMLElement} */ (scanner.querySelector('[data-scan-status]'));
  var canvas = document.createElement('canvas');
  var context = canvas.getContext('2d', { willReadFrequently: true });
  /** @type {MediaStream | undefined} */
  var stream;
  /** @type {number | undefined} */
  var timer;

  /** @param {string} name */
  function say(name) {
    status.textContent = scanner.getAttribute('data-msg-' + name) || '';
  }

  function stopCamera() {
    if (timer !== undefined) window.clearTimeout(timer);
    timer = undefined;
    if (stream) stream.getTracks().forEach((track) => track.stop());
    stream = undefined;
    video.srcObject = null;
    view.hidden = true;
    start.hidden = false;
  }

  /** @param {string} code */
  function lookUp(code) {
    var field = /** @type {HTMLInputElement | null} */ (document.getElementById('code'));
    if (!field || !field.form) return;
    field.value = code;
    // requestSubmit fires the submit event htmx listens to (hx-get), as a click on Look up would.
    field.form.requestSubmit();
  }

  function scanFrame() {
    timer = undefined;
    if (!stream || !context) return;
    if (video.readyState >= 2 && video.videoWidth > 0) {
      // A frame of at most 720 px across: enough for a voucher held up to the camera, and quick.
      var scale = Math.min(1, 720 / video.videoWidth);
      canvas.width = Math.round(video.videoWidth * scale);
      canvas.height = Math.round(video.videoHeight * scale);
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      var frame = context.getImageData(0, 0, canvas.width, canvas.height);
      var found = decode(frame.data, frame.width, frame.height, { inversionAttempts: 'dontInvert' });
      if (found && found.data.trim() !== '') {
        stopCamera();
        say('read');
        lookUp(found.data.trim());
        return;
      }
    }
    // About eight frames a second: a phone's CPU is shared with the camera and the page.
    timer = window.setTimeout(scanFrame, 120);
  }

  start.addEventListener('click', function () {
    start.hidden = true;
    say('point');
    navigator.mediaDevices
      .getUserMedia({ video: { facingMode: { ideal: 'environment' } }, audio: false })
      .then(function (media) {
        stream = media;
        video.srcObject = media;
        view.hidden = false;
        return video.play();
      })
      .then(function () {
        scanFrame();
        stop.focus();
      })
      .catch(function (/** @type {{name?: string}} */ err) {
        stopCamera();
        var name = err && err.name;
        say(
          name === 'NotAllowedError' || name === 'SecurityError'
            ? 'refused'
            : name === 'NotFoundError' || name === 'OverconstrainedError'
              ? 'no-camera'
              : 'failed',
        );
      });
  });

  stop.addEventListener('click', function () {
    stopCamera();
    status.textContent = '';
    start.focus();
  });

  // The looked-up voucher replaces "looking it up".
  document.body.addEventListener('htmx:afterSwap', function (event) {
    var target =
      /** @type {CustomEvent} */ (event).detail && /** @type {CustomEvent} */ (event).detail.target;
    if (target && target.id === 'lookup-result' && !stream) status.textContent = '';
  });

  // Leaving the page (or hiding it) releases the camera.
  window.addEventListener('pagehide', stopCamera);
  document.addEventListener('visibilitychange', function () {
    if (document.hidden) stopCamera();
  });

  scanner.hidden = false;
})();
