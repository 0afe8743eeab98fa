// The CLI's text output uses the formatting shared with the embedded demo.
export * from '../text/format.js';
