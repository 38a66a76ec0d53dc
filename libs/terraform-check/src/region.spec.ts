import { regionFor, siteRegion, type SiteConfig } from '@podline/config';
import { siteTfvarsFor } from './site-vars';

describe('a site without aws.region', () => {
  const site: SiteConfig = {
    id: 'b',
    title: 'B',
    siteDir: '/sites/b',
    configFile: '/sites/b/site.config.json',
    podcasts: [],
    storage: { kind: 's3', bucket: 'b-bucket', region: 'ap-southeast-2' },
    aws: { accountId: '111111111111', automationRoleName: 'podline-automation' },
    transcription: { engine: 'whisper', model: 'base.en', language: 'en', usePublisherTranscripts: true },
    index: { kind: 'lambda', functionName: 'podline-b-index' },
  };

  it('is deployed by Terraform in the region its Lambda is invoked in, whatever AWS_REGION says', () => {
    const deployed = siteTfvarsFor(site, true).aws_region;
    expect(deployed).toBe('ap-southeast-2');
    expect(deployed).toBe(siteRegion(site));
    // what libs/aws invokes with, given the automation environment's AWS_REGION
    expect(regionFor(site, 'us-east-1')).toBe(deployed);
  });
});
