// Static test credentials, so the SDK never looks for real ones (IMDS, ~/.aws).
export const testCredentials = { accessKeyId: 'AKIATESTACCESS000001', secretAccessKey: 'test-secret-key' };

export function useTestAwsEnv(region = 'eu-west-1'): void {
  process.env.AWS_ACCESS_KEY_ID = testCredentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = testCredentials.secretAccessKey;
  process.env.AWS_REGION = region;
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_ENDPOINT_URL;
}
