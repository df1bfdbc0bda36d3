// Where the page finds Kaiwa's API.
//
// "" (the default) means the server that served this page: `kaiwa serve` serves the page
// and the API together, and a CloudFront distribution that routes /chat*, /api/*, /health
// to the API and everything else to the S3 bucket also needs nothing here (but when the
// distribution sends the API its own Host, list the page's origin in KAIWA_CORS_ALLOWED_ORIGINS:
// Kaiwa recognises the page's own origin by the Host it was asked for).
//
// When the page is hosted on its own (the `web/` folder uploaded to an S3 bucket, served by
// CloudFront) and the API lives at another address, put that address here, without a
// trailing slash, before uploading:
//
//     window.KAIWA_CONFIG = { apiBaseUrl: "https://abcdefghij.lambda-url.ap-northeast-1.on.aws" };
//
// and allow the page's origin on the server:
// KAIWA_CORS_ALLOWED_ORIGINS=https://d111111abcdef8.cloudfront.net
window.KAIWA_CONFIG = {
  apiBaseUrl: "",
};
