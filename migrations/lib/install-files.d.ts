export declare const sqlDir: string;
export declare const releasesDir: string;
export declare const upgradesDir: string;
export interface UpgradeStep {
  from: string;
  to: string;
  /** Path relative to sql/. */
  file: string;
}
export declare function compareVersions(a: string, b: string): number;
export declare function releasedVersions(): string[];
export declare function upgradeSteps(): UpgradeStep[];
export declare function currentVersion(): string;
export declare function versionDir(version?: string): string;
export declare function upgradeStep(version: string): UpgradeStep;
export declare function installFiles(version?: string): string[];
export declare function readVersionFile(version: string, file: string): string;
export declare function applySqlFiles(pgm: unknown, files: string[], version?: string): Promise<void>;
export declare function upgradeTo(pgm: unknown, version: string): Promise<void>;
