/**
 * The one HTML page (a single-page app) and its Content-Security-Policy.
 * The only inline script is the import map, allowed by its SHA-256 hash;
 * everything else comes from this origin, so an injected <script> or
 * handler attribute never runs.
 */
import { createHash } from 'node:crypto';

export interface Page {
  html: Buffer;
  csp: string;
}

export function buildPage(importMap: { imports: Record<string, string> }, notBuilt: string | undefined): Page {
  const map = JSON.stringify(importMap);
  const hash = createHash('sha256').update(map, 'utf8').digest('base64');
  const body = notBuilt
    ? `<main class="not-built"><h1>crowdline console</h1><p>The console's frontend is not there: ${escapeHtml(notBuilt)}.</p></main>`
    : '<div id="app"></div><noscript>The crowdline console needs JavaScript.</noscript>';
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="dark">
<title>crowdline console</title>
<link rel="icon" href="/app/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/app/console.css">
<script type="importmap">${map}</script>
${notBuilt ? '' : '<script type="module" src="/app/main.js"></script>'}
</head>
<body>${body}</body>
</html>
`;
  const csp = [
    "default-src 'self'",
    `script-src 'self' 'sha256-${hash}'`,
    "style-src 'self'",
    "img-src 'self' blob: data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
  return { html: Buffer.from(html, 'utf8'), csp };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
