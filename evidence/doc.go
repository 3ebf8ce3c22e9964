// Package evidence checks that the publication of a communication action
// (its evidence URL) mentions the action's data URL, as step 4.3 of the
// open-data guide asks (DESIGN 2.5).
//
// The fetcher (Fetcher, Guard) dials only public addresses on ports 80 and
// 443, checked on the address actually dialed; DATOSBOT_FETCH_ALLOW opens
// ranges for tests and intranets.
package evidence
