// Example events for local invokes, shaped like the events AWS services send (see the AWS
// Lambda developer guide's event examples). Values are placeholders a test can override with --set.

import { buildHttpEvent, type HttpFront, type HttpRequestFacts } from '../serve/http-events.js';

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';

const URL_ID = 'a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6';

/** A browser's POST as each HTTP front turns it into an event: the same builder `start --http-port` uses. */
function frontEvent(front: HttpFront): unknown {
  const request: HttpRequestFacts = {
    method: 'POST',
    target: '/items/42?verbose=true&tag=a&tag=b',
    headers: [
      [
        'Host',
        front === 'url' ? `${URL_ID}.lambda-url.${REGION}.on.aws` : `abcdef123.execute-api.${REGION}.amazonaws.com`,
      ],
      ['User-Agent', 'Mozilla/5.0'],
      ['Accept', 'application/json'],
      ['Content-Type', 'application/json'],
      ['Cookie', 'session=abc; theme=dark'],
    ],
    body: Buffer.from('{"name":"widget"}'),
    sourceIp: '192.0.2.1',
    protocol: 'HTTP/1.1',
    time: new Date(Date.UTC(2024, 2, 10, 0, 3, 14)),
    requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
  };
  const apiId = front === 'url' ? URL_ID : 'abcdef123';
  return buildHttpEvent(front, request, { region: REGION, accountId: ACCOUNT, apiId, stage: 'prod' });
}

export const EVENT_EXAMPLES: Record<string, { description: string; event: unknown }> = {
  sqs: {
    description: 'Amazon SQS: a batch of one message',
    event: {
      Records: [
        {
          messageId: '059f36b4-87a3-44ab-83d2-661975830a7d',
          receiptHandle: 'AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...',
          body: '{"key": "value"}',
          attributes: {
            ApproximateReceiveCount: '1',
            SentTimestamp: '1545082649183',
            SenderId: 'AIDAIENQZJOLO23YVJ4VO',
            ApproximateFirstReceiveTimestamp: '1545082649185',
          },
          messageAttributes: {},
          md5OfBody: '88bac95f31528d13a072c05f2a1cf371',
          eventSource: 'aws:sqs',
          eventSourceARN: `arn:aws:sqs:${REGION}:${ACCOUNT}:my-queue`,
          awsRegion: REGION,
        },
      ],
    },
  },
  sns: {
    description: 'Amazon SNS: one notification',
    event: {
      Records: [
        {
          EventVersion: '1.0',
          EventSubscriptionArn: `arn:aws:sns:${REGION}:${ACCOUNT}:sns-topic:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55`,
          EventSource: 'aws:sns',
          Sns: {
            SignatureVersion: '1',
            Timestamp: '2019-01-02T12:45:07.000Z',
            Signature: 'tcc6faL2yUC6dgZdmrwh1Y4cGa/ebXEkAi6RibDsvpi+tE/1+82j...',
            SigningCertUrl:
              'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-ac565b8b1a6c5d002d285f9598aa1d9b.pem',
            MessageId: '95df01b4-ee98-5cb9-9903-4c221d41eb5e',
            Message: 'Hello from SNS!',
            MessageAttributes: {},
            Type: 'Notification',
            UnsubscribeUrl: 'https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe',
            TopicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:sns-topic`,
            Subject: 'TestInvoke',
          },
        },
      ],
    },
  },
  's3-put': {
    description: 'Amazon S3: ObjectCreated:Put',
    event: {
      Records: [
        {
          eventVersion: '2.1',
          eventSource: 'aws:s3',
          awsRegion: REGION,
          eventTime: '2019-09-03T19:37:27.192Z',
          eventName: 'ObjectCreated:Put',
          userIdentity: { principalId: 'AWS:AIDAINPONIXQXHT3IKHL2' },
          requestParameters: { sourceIPAddress: '205.255.255.255' },
          responseElements: {
            'x-amz-request-id': 'D82B88E5F771F645',
            'x-amz-id-2': 'vlR7PnpV2Ce81l0PRw6jlUpck7Jo5ZsQjryTjKlc5aLWGVHPZLj5NeC6qMa0emYBDXOo6QBU0Wo=',
          },
          s3: {
            s3SchemaVersion: '1.0',
            configurationId: '828aa6fc-f7b5-4305-8584-487c791949c1',
            bucket: {
              name: 'my-bucket',
              ownerIdentity: { principalId: 'A3I5XTEXAMAI3E' },
              arn: 'arn:aws:s3:::my-bucket',
            },
            object: {
              key: 'uploads/photo.jpg',
              size: 1305107,
              eTag: 'b21b84d653bb07b05b1e6b33684dc11b',
              sequencer: '0C0F6F405D6ED209E1',
            },
          },
        },
      ],
    },
  },
  'apigw-rest': {
    description: 'Amazon API Gateway REST API (payload format 1.0)',
    event: {
      resource: '/items/{id}',
      path: '/items/42',
      httpMethod: 'GET',
      headers: {
        Accept: 'application/json',
        Host: 'abcdef123.execute-api.us-east-1.amazonaws.com',
        'User-Agent': 'curl/8.5.0',
      },
      multiValueHeaders: { Accept: ['application/json'] },
      queryStringParameters: { verbose: 'true' },
      multiValueQueryStringParameters: { verbose: ['true'] },
      pathParameters: { id: '42' },
      stageVariables: null,
      requestContext: {
        accountId: ACCOUNT,
        apiId: 'abcdef123',
        resourceId: 'abc123',
        resourcePath: '/items/{id}',
        httpMethod: 'GET',
        path: '/prod/items/42',
        protocol: 'HTTP/1.1',
        requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
        requestTime: '09/Apr/2015:12:34:56 +0000',
        requestTimeEpoch: 1428582896000,
        stage: 'prod',
        identity: { sourceIp: '192.0.2.1', userAgent: 'curl/8.5.0' },
      },
      body: null,
      isBase64Encoded: false,
    },
  },
  'apigw-http': {
    description: 'Amazon API Gateway HTTP API (payload format 2.0)',
    event: {
      version: '2.0',
      routeKey: 'POST /items',
      rawPath: '/items',
      rawQueryString: 'verbose=true',
      cookies: ['session=abc'],
      headers: { 'content-type': 'application/json', host: 'abcdef123.execute-api.us-east-1.amazonaws.com' },
      queryStringParameters: { verbose: 'true' },
      requestContext: {
        accountId: ACCOUNT,
        apiId: 'abcdef123',
        domainName: 'abcdef123.execute-api.us-east-1.amazonaws.com',
        domainPrefix: 'abcdef123',
        http: { method: 'POST', path: '/items', protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'curl/8.5.0' },
        requestId: 'JKJaXmPLvHcESHA=',
        routeKey: 'POST /items',
        stage: '$default',
        time: '10/Mar/2020:00:03:14 +0000',
        timeEpoch: 1583798594000,
      },
      body: '{"name":"widget"}',
      isBase64Encoded: false,
    },
  },
  'function-url': {
    description: 'Lambda function URL request (payload format 2.0), as start --http-port builds it',
    event: frontEvent('url'),
  },
  'http-api-proxy': {
    description: 'API Gateway HTTP API, route ANY /{proxy+}, as start --http-event http-api builds it',
    event: frontEvent('http-api'),
  },
  'rest-api-proxy': {
    description: 'API Gateway REST API, resource /{proxy+}, as start --http-event rest-api builds it',
    event: frontEvent('rest-api'),
  },
  alb: {
    description: 'Application Load Balancer target group request',
    event: {
      requestContext: {
        elb: {
          targetGroupArn: `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/lambda-tg/6d0ecf831eec9f09`,
        },
      },
      httpMethod: 'GET',
      path: '/',
      queryStringParameters: {},
      headers: {
        accept: 'text/html',
        host: 'lambda-alb-123578498.us-east-1.elb.amazonaws.com',
        'x-forwarded-for': '192.0.2.1',
        'x-forwarded-port': '80',
        'x-forwarded-proto': 'http',
      },
      body: '',
      isBase64Encoded: false,
    },
  },
  eventbridge: {
    description: 'Amazon EventBridge: a custom event',
    event: {
      version: '0',
      id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
      'detail-type': 'OrderPlaced',
      source: 'com.example.orders',
      account: ACCOUNT,
      time: '2026-11-25T12:00:00Z',
      region: REGION,
      resources: [],
      detail: { orderId: '1234', amount: 42.5 },
    },
  },
  'dynamodb-stream': {
    description: 'Amazon DynamoDB Streams: one INSERT',
    event: {
      Records: [
        {
          eventID: 'c4ca4238a0b923820dcc509a6f75849b',
          eventName: 'INSERT',
          eventVersion: '1.1',
          eventSource: 'aws:dynamodb',
          awsRegion: REGION,
          dynamodb: {
            Keys: { Id: { N: '101' } },
            NewImage: { Message: { S: 'New item!' }, Id: { N: '101' } },
            ApproximateCreationDateTime: 1428537600,
            SequenceNumber: '4421584500000000017450439091',
            SizeBytes: 26,
            StreamViewType: 'NEW_AND_OLD_IMAGES',
          },
          eventSourceARN: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/ExampleTable/stream/2015-06-27T00:48:05.899`,
        },
      ],
    },
  },
  kinesis: {
    description: 'Amazon Kinesis Data Streams: one record (data is base64)',
    event: {
      Records: [
        {
          kinesis: {
            kinesisSchemaVersion: '1.0',
            partitionKey: '1',
            sequenceNumber: '49590338271490256608559692538361571095921575989136588898',
            data: 'SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg==',
            approximateArrivalTimestamp: 1545084650.987,
          },
          eventSource: 'aws:kinesis',
          eventVersion: '1.0',
          eventID: 'shardId-000000000006:49590338271490256608559692538361571095921575989136588898',
          eventName: 'aws:kinesis:record',
          invokeIdentityArn: `arn:aws:iam::${ACCOUNT}:role/lambda-role`,
          awsRegion: REGION,
          eventSourceARN: `arn:aws:kinesis:${REGION}:${ACCOUNT}:stream/lambda-stream`,
        },
      ],
    },
  },
  scheduled: {
    description: 'EventBridge scheduled rule (cron / rate)',
    event: {
      version: '0',
      id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: ACCOUNT,
      time: '2026-11-25T12:00:00Z',
      region: REGION,
      resources: [`arn:aws:events:${REGION}:${ACCOUNT}:rule/my-schedule`],
      detail: {},
    },
  },
};
