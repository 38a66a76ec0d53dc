import { regionFor, siteRegion } from './index';

describe('siteRegion: the one answer for where a site\'s AWS resources are', () => {
  const s3 = { kind: 's3' as const, bucket: 'b', region: 'eu-central-1' };

  it('aws.region first', () => {
    expect(siteRegion({ aws: { region: 'us-west-2' }, storage: s3 })).toBe('us-west-2');
  });

  it('else the S3 bucket\'s region (a site without aws.region: Terraform and the AWS calls both use it)', () => {
    expect(siteRegion({ aws: {}, storage: s3 })).toBe('eu-central-1');
    expect(regionFor({ aws: {}, storage: s3 }, 'us-east-1')).toBe('eu-central-1');
  });

  it('else nothing: the runtime falls back to the environment\'s region, then us-east-1', () => {
    expect(siteRegion({ aws: {}, storage: { kind: 'local' } })).toBeUndefined();
    expect(regionFor({ aws: {}, storage: { kind: 'local' } }, 'ap-south-1')).toBe('ap-south-1');
    expect(regionFor({ aws: {}, storage: { kind: 'none' } })).toBe('us-east-1');
  });
});
