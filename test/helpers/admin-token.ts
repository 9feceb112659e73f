/** The admin token of every test platform (no tap import: benchmarks use it too). */
export const TEST_ADMIN_TOKEN = 'vigie-test-admin-token-0123456789';
