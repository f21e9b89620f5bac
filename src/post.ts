import { cleanup } from './state.js';

void cleanup();
