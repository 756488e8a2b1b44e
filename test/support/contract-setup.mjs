import { clearFragments } from './contract-report.mjs';

export default function contractSetup() {
  clearFragments();
}
