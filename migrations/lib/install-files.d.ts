export declare const sqlDir: string;
export declare function installFiles(): string[];
export declare function applySqlFiles(pgm: unknown, files: string[]): Promise<void>;
