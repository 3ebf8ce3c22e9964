package main

// No test of this package dials the real portal: DATOSBOT_CKAN_URL
// defaults to off here, and a test that wants the portal names a fake.
func init() { defaultCKANURL = "off" }
