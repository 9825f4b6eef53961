// Apart from registry-flags.ts, which loads the registry client (undici): --help
// and every command's help layout need only the names, and inspect/verify never
// touch a registry.

/** The registry flags, which --help shows in their own group after the command's own (a flag added in registry-flags.ts goes here too; test/cli/help.test.ts checks). */
export const REGISTRY_FLAG_KEYS = ['creds', 'authfile', 'plain-http', 'tls-verify', 'ca-cert', 'concurrency', 'retries'] as const;
