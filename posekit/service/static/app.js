// posekit's page: plain JavaScript, no build step, nothing fetched from outside this server.
"use strict";

const $ = (id) => document.getElementById(id);
const view = $("view");
const ctx = view.getContext("2d");
const video = $("video");
const schemas = {};            // name -> {keypoints, edges}, from /v1/schemas/{name}
const MIN_CONFIDENCE = 0.3;
const LIVE_MAX_SIDE = 640;     // stream frames are downscaled to this (speed; see docs/service.md)

// What the browser test reads: counts of the live stream and the last image answer.
window.posekit = {
  sent: 0, received: 0, withPeople: 0, withAnalysis: 0, ids: [], fps: 0, lastRecord: null, imageURL: null,
};

function apiKey() { return $("api-key").value.trim(); }
function headers(extra = {}) {
  const key = apiKey();
  return key ? { ...extra, "X-API-Key": key } : extra;
}
function setStatus(text) { $("status").textContent = text; }
$("api-key").value = localStorage.getItem("posekit-api-key") || "";
$("api-key").addEventListener("change", () => localStorage.setItem("posekit-api-key", apiKey()));

async function schema(name) {
  if (!(name in schemas)) {
    const answer = await fetch(`/v1/schemas/${encodeURIComponent(name)}`, { headers: headers() });
    schemas[name] = answer.ok ? await answer.json() : { keypoints: [], edges: [] };
  }
  return schemas[name];
}

function colour(trackId) {
  if (trackId === null || trackId === undefined) return "hsl(140, 90%, 50%)";
  return `hsl(${(trackId * 137.508) % 360}, 90%, 55%)`;
}

// Which layers to draw: BlazePose's 33 if held, else COCO-17; hands and face on top.
function layersOf(person) {
  const held = person.keypoints || {};
  const body = "blazepose33" in held ? "blazepose33" : "coco17";
  return [body, "hand_left21", "hand_right21", "face68"].filter((name) => name in held);
}

async function drawPeople(record, scale = 1) {
  const width = Math.max(2, Math.round(3 * scale * view.width / 640));
  for (const person of record.people) {
    const stroke = colour(person.track_id);
    for (const name of layersOf(person)) {
      const layout = await schema(name);
      const points = person.keypoints[name];
      const ok = (p) => p && p[0] !== null && p[2] >= MIN_CONFIDENCE;
      ctx.strokeStyle = stroke;
      ctx.lineWidth = name.startsWith("face") || name.startsWith("hand") ? Math.max(1, width / 2) : width;
      ctx.beginPath();
      for (const [a, b] of layout.edges) {
        if (ok(points[a]) && ok(points[b])) {
          ctx.moveTo(points[a][0] * scale, points[a][1] * scale);
          ctx.lineTo(points[b][0] * scale, points[b][1] * scale);
        }
      }
      ctx.stroke();
      ctx.fillStyle = "#fff";
      for (const p of points) {
        if (ok(p)) ctx.fillRect(p[0] * scale - width / 2, p[1] * scale - width / 2, width, width);
      }
    }
    if (person.track_id !== null && person.track_id !== undefined) {
      ctx.fillStyle = stroke;
      ctx.font = `${Math.max(12, 6 * width)}px sans-serif`;
      ctx.fillText(`#${person.track_id}`, person.bbox[0] * scale, Math.max(12, person.bbox[1] * scale - 4));
    }
  }
}

function showPeople(record) {
  const box = $("people");
  box.textContent = "";
  const analysis = record.analysis || {};
  if (!record.people.length) { box.textContent = "Nobody found."; return; }
  const table = document.createElement("table");
  table.innerHTML = "<tr><th>id</th><th>score</th><th>reps</th><th>angles (degrees)</th></tr>";
  for (const person of record.people) {
    const row = table.insertRow();
    const found = analysis[String(person.track_id)] || {};
    const angles = Object.entries(found.angles || {})
      .filter(([, v]) => v !== null).map(([k, v]) => `${k} ${Math.round(v)}`).join(", ");
    for (const text of [person.track_id ?? "-", person.score.toFixed(2), found.reps ?? "-", angles || "-"]) {
      row.insertCell().textContent = String(text);
    }
  }
  box.appendChild(table);
}

function addDownload(label, href, filename) {
  const link = document.createElement("a");
  link.href = href;
  link.textContent = label;
  if (filename) link.download = filename;
  if (href.startsWith("/") && apiKey()) {
    // A plain link cannot carry the key header: fetch with it, then save the bytes.
    link.addEventListener("click", async (event) => {
      event.preventDefault();
      const answer = await fetch(href, { headers: headers() });
      if (!answer.ok) { setStatus(`Download refused: ${await failure(answer)}`); return; }
      const saved = document.createElement("a");
      saved.href = URL.createObjectURL(await answer.blob());
      saved.download = filename || "download";
      saved.click();
    });
  }
  $("downloads").appendChild(link);
}

async function failure(answer) {
  let detail = answer.statusText;
  try { detail = (await answer.json()).detail; } catch (e) { /* not JSON */ }
  return `${answer.status}: ${detail}`;
}

// --- an image ------------------------------------------------------------------------------

async function runImage(file) {
  setStatus(`Finding people in ${file.name} ...`);
  const query = `whole_body=${$("whole-body").checked}`;
  const form = new FormData();
  form.append("file", file);
  const answer = await fetch(`/v1/poses?${query}`, { method: "POST", body: form, headers: headers() });
  if (!answer.ok) { setStatus(`Refused: ${await failure(answer)}`); return; }
  const record = await answer.json();
  const url = URL.createObjectURL(file);
  const image = new Image();
  await new Promise((resolve, reject) => { image.onload = resolve; image.onerror = reject; image.src = url; });
  view.width = image.naturalWidth;
  view.height = image.naturalHeight;
  ctx.drawImage(image, 0, 0);
  await drawPeople(record);
  window.posekit.lastRecord = record;
  window.posekit.imageURL = url;
  showPeople(record);
  const json = new Blob([JSON.stringify(record) + "\n"], { type: "application/json" });
  addDownload("poses (JSON)", URL.createObjectURL(json), `${file.name}.json`);
  setStatus(`${peopleCount(record.people.length)} in ${file.name}.`);
  window.posekit.imageDone = true;
}

// --- a video: a job, then playback with the skeletons -----------------------------------------

async function runVideo(file) {
  const task = $("analysis").checked ? "analyze" : "track";
  const query = `task=${task}&whole_body=${$("whole-body").checked}`;
  const form = new FormData();
  form.append("file", file);
  setStatus(`Uploading ${file.name} ...`);
  const answer = await fetch(`/v1/jobs?${query}`, { method: "POST", body: form, headers: headers() });
  if (!answer.ok) { setStatus(`Refused: ${await failure(answer)}`); return; }
  const { job_id: jobId } = await answer.json();
  $("progress-wrap").hidden = false;
  let state;
  for (;;) {
    state = await (await fetch(`/v1/jobs/${jobId}`, { headers: headers() })).json();
    const total = state.frames_total || 0;
    $("progress").value = total ? state.frames_done / total : 0;
    setStatus(`Job ${state.state}: ${state.frames_done} of ${total || "?"} frames`);
    if (state.state === "done" || state.state === "failed") break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  $("progress-wrap").hidden = true;
  if (state.state === "failed") { setStatus(`Job failed: ${state.error}`); return; }
  for (const entry of state.files) addDownload(entry.name, entry.url, entry.name.split("/").pop());
  addDownload("everything (zip)", `/v1/jobs/${jobId}/result?format=zip`, `${jobId}.zip`);
  const jsonl = state.files.find((entry) => entry.name.endsWith(".jsonl"));
  const lines = await (await fetch(jsonl.url, { headers: headers() })).text();
  const frames = lines.split("\n").filter(Boolean).map((line) => JSON.parse(line));
  setStatus(`${frames.length} frames tracked; playing.`);
  await playWithSkeletons(file, frames, jobId, state.frames_total || frames.length);
}

async function playWithSkeletons(file, frames, jobId, total) {
  video.src = URL.createObjectURL(file);
  const playable = await new Promise((resolve) => {
    video.onloadeddata = () => resolve(true);
    video.onerror = () => resolve(false);
    setTimeout(() => resolve(false), 5000);
  });
  if (!playable) { await playFromPreview(frames, jobId, total); return; }
  view.width = video.videoWidth;
  view.height = video.videoHeight;
  const frameAt = (t) => {
    let best = frames[0];
    for (const f of frames) { if (f.timestamp_s <= t + 1e-3) best = f; else break; }
    return best;
  };
  const paint = async () => {
    ctx.drawImage(video, 0, 0);
    const record = frameAt(video.currentTime);
    if (record) { await drawPeople(record); showPeople(record); }
    if (!video.paused && !video.ended) requestAnimationFrame(paint);
  };
  video.onplay = () => requestAnimationFrame(paint);
  video.onseeked = paint;
  video.loop = true;
  await video.play().catch(() => paint());
}

// The browser cannot decode this video's codec (e.g. MPEG-4 part 2): the server's downscaled
// frames of it (at most 300) under the skeletons, at the video's pace; dark if even those fail.
async function playFromPreview(frames, jobId, total) {
  const stride = Math.max(1, Math.ceil(total / 300));
  let stills = [];
  try {
    const answer = await fetch(`/v1/jobs/${jobId}/preview?stride=${stride}`, { headers: headers() });
    if (answer.ok) {
      const preview = await answer.json();
      stills = await Promise.all(preview.frames.map((still) => new Promise((resolve) => {
        const image = new Image();
        image.onload = () => resolve({ t: still.timestamp_s, image });
        image.onerror = () => resolve(null);
        image.src = `data:image/jpeg;base64,${still.jpeg}`;
      })));
      stills = stills.filter(Boolean);
    }
  } catch (error) { stills = []; }
  setStatus(`${frames.length} frames tracked; this browser cannot play the video's codec: ` +
    (stills.length ? "showing the server's frames of it." : "skeletons only."));
  window.posekit.previewFrames = stills.length;
  const [height, width] = frames[0].image_size;
  view.width = width;
  view.height = height;
  const started = performance.now();
  const duration = frames[frames.length - 1].timestamp_s + 0.1;
  const latest = (list, t, time) => {
    let best = list[0];
    for (const item of list) { if (time(item) <= t + 1e-3) best = item; else break; }
    return best;
  };
  const paint = async () => {
    const t = ((performance.now() - started) / 1000) % duration;
    const record = latest(frames, t, (f) => f.timestamp_s);
    if (stills.length) {
      ctx.drawImage(latest(stills, record.timestamp_s, (s) => s.t).image, 0, 0, width, height);
    } else {
      ctx.fillStyle = "#222";
      ctx.fillRect(0, 0, width, height);
    }
    await drawPeople(record);
    showPeople(record);
    if (!live) requestAnimationFrame(paint);
  };
  requestAnimationFrame(paint);
}

// --- webcam: frames over the WebSocket, one in flight ------------------------------------------

let live = null;

async function startWebcam() {
  const stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 } }, audio: false });
  video.srcObject = stream;
  await video.play();
  const scale = Math.min(1, LIVE_MAX_SIDE / Math.max(video.videoWidth, video.videoHeight));
  const grab = document.createElement("canvas");
  grab.width = Math.round(video.videoWidth * scale);
  grab.height = Math.round(video.videoHeight * scale);
  view.width = grab.width;
  view.height = grab.height;
  const protocol = location.protocol === "https:" ? "wss" : "ws";
  const params = new URLSearchParams({ analysis: $("analysis").checked, whole_body: $("whole-body").checked });
  if (apiKey()) params.set("api_key", apiKey());
  const socket = new WebSocket(`${protocol}://${location.host}/v1/stream?${params}`);
  socket.binaryType = "arraybuffer";
  live = { stream, socket, grab, started: performance.now(), ids: new Set(), shown: null };
  $("webcam-start").disabled = true;
  $("webcam-stop").disabled = false;
  const sendFrame = () => {
    if (!live || socket.readyState !== WebSocket.OPEN) return;
    const g = grab.getContext("2d");
    g.drawImage(video, 0, 0, grab.width, grab.height);
    live.shown = g.getImageData(0, 0, grab.width, grab.height);
    grab.toBlob((blob) => {
      if (!live || socket.readyState !== WebSocket.OPEN) return;
      blob.arrayBuffer().then((bytes) => { socket.send(bytes); window.posekit.sent += 1; });
    }, "image/jpeg", 0.7);
  };
  socket.onmessage = async (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "hello") { sendFrame(); return; }
    if (message.type === "error") { setStatus(`Frame refused: ${message.detail}`); sendFrame(); return; }
    const shown = live && live.shown;
    sendFrame();  // the next frame goes out while this answer is drawn
    window.posekit.received += 1;
    if (message.people.length) window.posekit.withPeople += 1;
    if (message.analysis && Object.keys(message.analysis).length) window.posekit.withAnalysis += 1;
    for (const person of message.people) live && live.ids.add(person.track_id);
    window.posekit.ids = live ? [...live.ids] : [];
    if (shown) ctx.putImageData(shown, 0, 0);
    await drawPeople(message);
    drawReps(message);
    const seconds = (performance.now() - (live ? live.started : 0)) / 1000;
    window.posekit.fps = window.posekit.received / Math.max(seconds, 1e-3);
    $("live-stats").textContent = `${window.posekit.fps.toFixed(1)} frames/s, ${peopleCount(message.people.length)}`;
  };
  socket.onclose = (event) => { if (live) setStatus(`Stream closed (${event.code} ${event.reason || ""})`); };
  socket.onerror = () => setStatus("Stream error");
  setStatus("Webcam streaming.");
}

function drawReps(message) {
  const analysis = message.analysis || {};
  const lines = Object.entries(analysis).map(([id, a]) => `#${id}: ${a.reps ?? 0} reps`);
  if (!lines.length) return;
  ctx.font = "bold 22px sans-serif";
  ctx.fillStyle = "rgba(0, 0, 0, 0.55)";
  ctx.fillRect(8, 8, 190, 10 + 26 * lines.length);
  ctx.fillStyle = "#fff";
  lines.forEach((line, i) => ctx.fillText(line, 16, 34 + 26 * i));
  showPeople(message);
}

function stopWebcam() {
  if (!live) return;
  live.socket.close();
  for (const track of live.stream.getTracks()) track.stop();
  video.srcObject = null;
  live = null;
  $("webcam-start").disabled = false;
  $("webcam-stop").disabled = true;
  setStatus("Webcam stopped.");
}

// The analysis box only where the server has the analysis.
fetch("/healthz").then((answer) => answer.json()).then((health) => {
  window.posekit.health = health;
  if (!health.analysis) {
    $("analysis").checked = false;
    $("analysis").disabled = true;
    $("analysis").parentElement.title = "posekit.analysis is not installed on the server";
  }
}).catch(() => {});

// --- wiring ------------------------------------------------------------------------------------

async function handleFile(file) {
  if (!file) return;
  $("downloads").textContent = "";
  $("people").textContent = "";
  try {
    if (file.type.startsWith("video/")) await runVideo(file);
    else await runImage(file);
  } catch (error) {
    setStatus(`Error: ${error}`);
  }
}

$("file-input").addEventListener("change", (event) => handleFile(event.target.files[0]));
const drop = $("drop");
drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (event) => {
  event.preventDefault();
  drop.classList.remove("over");
  handleFile(event.dataTransfer.files[0]);
});
$("webcam-start").addEventListener("click", () => startWebcam().catch((e) => setStatus(`Webcam: ${e}`)));
$("webcam-stop").addEventListener("click", stopWebcam);

function peopleCount(count) {
  return count === 1 ? "1 person" : `${count} people`;
}
