// demo-page.mjs -- steps on the demo page (www/index.html) in a real
// browser (a playwright-core Page), shared by the Chromium tests.

/*
 * logoutThroughPage(page, s) -> Promise: on the demo page at s.appUrl,
 * Log out, confirm at the provider (s.issuer), back on the demo page
 * signed out (its Log in link showing).
 */
export async function logoutThroughPage(page, s) {
	await page.goto(`${s.appUrl}/`);
	await page.getByRole('link', { name: 'Log out' }).click();
	await page.waitForURL((u) => u.href.startsWith(s.issuer));
	await page.getByRole('button', { name: 'Yes, sign me out' }).click();
	await page.waitForURL((u) => u.href.startsWith(s.appUrl));
	await page.getByRole('link', { name: 'Log in' }).waitFor();
}
