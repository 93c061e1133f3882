// Renderer entry: the editor app over the host it finds (Electron's preload API, or the browser).
import '@xyflow/react/dist/style.css';
import './styles.css';
import { createRoot } from 'react-dom/client';
import { createApp } from './app-context.js';
import { App } from './ui/App.js';

const app = createApp();
// For e2e tests and the curious: the app's services (read-only use).
(window as unknown as { ctxlab_app?: unknown }).ctxlab_app = app;
createRoot(document.getElementById('root')!).render(<App app={app} />);
