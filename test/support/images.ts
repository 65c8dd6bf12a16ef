/** Test and example images, built locally by scripts/build-test-images.sh (never pulled). */
export const HTTPD_IMAGE = 'berth-test/httpd:latest';
export const APP_IMAGE = 'berth-test/app:latest';
export const EXAMPLE_IMAGE = 'berth-example/hello:latest';
