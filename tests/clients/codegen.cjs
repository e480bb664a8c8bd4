// graphql-codegen over schema.graphql and the contract, strict scalars (tests/cli/test_real_clients.py).
//   OUT=/tmp/x/types.ts npx graphql-codegen --config codegen.cjs
module.exports = {
  schema: '../../schema.graphql',
  documents: '../contract/operations.graphql',
  generates: {
    [process.env.OUT || 'generated/types.ts']: {
      plugins: ['typescript', 'typescript-operations'],
      config: { strictScalars: true, scalars: { DateTime: 'string' }, enumsAsTypes: true },
    },
  },
};
