/** The console page's entry point (loaded by the page as /app/main.js). */
import { render } from 'preact';
import { App } from './app.js';

const root = document.getElementById('app');
if (root) render(<App />, root);
