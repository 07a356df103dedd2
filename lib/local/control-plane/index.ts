/**
 * The embedded control plane: a development and test server that speaks the Kubernetes API
 * (see README.md). Production runs against a real cluster.
 */
export { startControlPlane, type ControlPlane, type ControlPlaneOptions } from './server.ts';
export { parseTokenFile, type TokenEntry, type UserInfo } from './auth.ts';
