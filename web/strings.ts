/**
 * Every word the pages show, in one place. A translation is another object of the same type;
 * `stringsFor` picks one from Accept-Language (English until there is another).
 */
import type { ErrorCode } from '../common/errors.js';

export interface Strings {
  lang: string;
  siteName: string;
  skipToContent: string;
  /** {remaining} and {total} are filled in (and updated live) by the page. */
  remaining: string;
  formatTime: (at: Date) => string;
  loadingOrder: string;
  noScriptOrder: string;
  stockLive: string;
  orderHeading: string;
  orderIntro: string;
  firstName: string;
  lastName: string;
  phone: string;
  phoneHint: string;
  reserve: string;
  reserving: string;
  soldOutHeading: string;
  soldOutText: string;
  fixFields: string;
  existingOrder: string;
  viewOrder: string;
  /** The order page's heading when the product is not known yet (the script loads it). */
  yourOrder: string;
  orderNumber: string;
  couponCode: string;
  couponCodeHint: string;
  reservedPreparing: string;
  reservedPreparingDetail: string;
  voucherReady: string;
  voucherReadyDetail: string;
  download: string;
  downloadExpires: string;
  redeemedAt: (at: string) => string;
  cancelled: string;
  checkAgain: string;
  orderNotFound: string;
  keepLink: string;
  newOrder: string;
  fields: Record<'firstName' | 'lastName' | 'phone' | 'orderId' | 'productId' | 'body', string>;
  errors: Partial<Record<ErrorCode, string>> & { form: string };
  staff: {
    title: string;
    signInHeading: string;
    token: string;
    signIn: string;
    signOut: string;
    wrongToken: string;
    lookupHeading: string;
    code: string;
    codeHint: string;
    lookup: string;
    redeem: string;
    notFound: string;
    status: Record<string, string>;
    redeemed: (at: string) => string;
    alreadyRedeemed: (at: string | undefined) => string;
    refusedCancelled: string;
    order: string;
    customer: string;
    product: string;
    /** Who redeemed it: the role, and the sign-in it used when known. */
    redeemedBy: (role: string, signIn: string | undefined) => string;
    scan: {
      start: string;
      stop: string;
      point: string;
      read: string;
      refused: string;
      noCamera: string;
      failed: string;
      video: string;
    };
  };
  admin: {
    title: string;
    signInHeading: string;
    productsHeading: string;
    product: string;
    total: string;
    remaining: string;
    reserved: string;
    available: string;
    yes: string;
    no: string;
    changeTotal: string;
    save: string;
    saved: (productId: string, total: number) => string;
    belowReserved: (reserved: number) => string;
    ordersHeading: string;
    orderId: string;
    status: string;
    createdAt: string;
    customer: string;
    noOrders: string;
    /** An order whose names and phone were removed (PII_RETENTION_DAYS). */
    personalDataRemoved: string;
    auditHeading: string;
    auditAt: string;
    auditWho: string;
    auditAction: string;
    auditSubject: string;
    auditWhat: string;
    noAudit: string;
    auditActions: Record<string, string>;
    auditOutcomes: Record<string, string>;
    auditTotals: (before: string, after: string) => string;
    auditRequest: (requestId: string) => string;
    searchHeading: string;
    searchLabel: string;
    searchHint: string;
    search: string;
    searchResults: (query: string, count: number) => string;
    noResults: string;
    couponCode: string;
    olderOrders: string;
    newestOrders: string;
    olderAudit: string;
    newestAudit: string;
    exportCsv: string;
    pages: string;
    moreProducts: string;
    firstProducts: string;
    pipeline: {
      heading: string;
      chart: string;
      remaining: string;
      ordersLastMinute: string;
      replicationLag: string;
      renderJobs: string;
      vouchersLastMinute: string;
      oldestWithoutVoucher: string;
    };
  };
  notFoundPage: string;
  backHome: string;
}

export const en: Strings = {
  lang: 'en',
  siteName: 'Reservations',
  skipToContent: 'Skip to content',
  remaining: '{remaining} of {total} left',
  formatTime: (at) =>
    new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }).format(
      at,
    ) + ' UTC',
  loadingOrder: 'Loading your order…',
  noScriptOrder: 'Open the link you were sent to after ordering: it holds the key to this order.',
  stockLive: 'Updates live',
  orderHeading: 'Reserve yours',
  orderIntro: 'Free, one per phone number. You get a voucher to show when you collect it.',
  firstName: 'First name',
  lastName: 'Last name',
  phone: 'Phone number',
  phoneHint: 'With the country code, e.g. +358 40 123 4567.',
  reserve: 'Reserve',
  reserving: 'Reserving…',
  soldOutHeading: 'Out of stock',
  soldOutText: 'Everything has been reserved. If more comes in, the form comes back on this page.',
  fixFields: 'Please check the fields marked below.',
  existingOrder: 'You already reserved one on this device.',
  viewOrder: 'View your order',
  yourOrder: 'Your order',
  orderNumber: 'Order number',
  couponCode: 'Your code',
  couponCodeHint: 'Staff may ask for it: read it out group by group. It never holds I, L, O or U.',
  reservedPreparing: 'Reserved! Preparing your voucher…',
  reservedPreparingDetail: 'This takes a few seconds. The download link appears here by itself.',
  voucherReady: 'Your voucher is ready.',
  voucherReadyDetail: 'Download it and show it (on screen or printed) when you collect.',
  download: 'Download the voucher (PDF)',
  downloadExpires: 'The link works for a few minutes; reload this page for a new one.',
  redeemedAt: (at) => `This voucher was used on ${at}.`,
  cancelled: 'This order was cancelled.',
  checkAgain: 'Check again',
  orderNotFound: 'We could not find this order. Check the link you saved.',
  keepLink: 'Keep this page’s address: it is the only way back to your order.',
  newOrder: 'Back to the product',
  fields: {
    firstName: 'First name',
    lastName: 'Last name',
    phone: 'Phone number',
    orderId: 'Order',
    productId: 'Product',
    body: 'Form',
  },
  errors: {
    form: 'Something is wrong with the form; reload the page and try again.',
    invalid_request: 'Please check the fields marked below.',
    duplicate_customer: 'This phone number already has a reservation for this product.',
    out_of_stock: 'Sorry, it is all gone: everything has been reserved.',
    order_id_conflict: 'This form was already used for another reservation; reload the page.',
    rate_limited: 'Too many attempts from here; wait a minute and try again.',
    unavailable: 'We cannot take reservations this very moment; nothing was saved. Try again shortly.',
    internal_error: 'Something went wrong on our side; nothing was saved. Try again shortly.',
    payload_too_large: 'The form is too large.',
    unsupported_media_type: 'The form could not be read.',
    unauthorized: 'Please sign in again.',
    forbidden: 'This form had expired. It has been renewed: please send it again.',
    not_found: 'Not found.',
  },
  staff: {
    title: 'Staff: redeem vouchers',
    signInHeading: 'Staff sign-in',
    token: 'Staff token',
    signIn: 'Sign in',
    signOut: 'Sign out',
    wrongToken: 'That token is not right.',
    lookupHeading: 'Look up a coupon code',
    code: 'Coupon code',
    codeHint: 'Any case; spaces and dashes are ignored.',
    lookup: 'Look up',
    redeem: 'Redeem',
    notFound: 'No voucher has this code.',
    status: {
      reserved: 'Reserved, voucher not ready yet',
      voucher_ready: 'Valid, not redeemed',
      redeemed: 'Already redeemed',
      cancelled: 'Cancelled',
    },
    redeemed: (at) => `Redeemed on ${at}. Hand over the product.`,
    alreadyRedeemed: (at) => (at ? `Refused: already redeemed on ${at}.` : 'Refused: already redeemed.'),
    order: 'Order',
    refusedCancelled: 'Refused: this order was cancelled.',
    customer: 'Name',
    product: 'Product',
    redeemedBy: (role, signIn) => `By ${role}${signIn ? ` (sign-in ${signIn})` : ''}.`,
    scan: {
      start: 'Scan the QR code',
      stop: 'Stop the camera',
      point: "Point the camera at the voucher's QR code.",
      read: 'Read the code; looking it up.',
      refused: 'The camera is not allowed. Allow it in the browser, or type the code below.',
      noCamera: 'No camera found. Type the code below.',
      failed: 'The camera could not start. Type the code below.',
      video: 'Camera view',
    },
  },
  admin: {
    title: 'Admin: stock and orders',
    signInHeading: 'Admin sign-in',
    productsHeading: 'Stock',
    product: 'Product',
    total: 'Total',
    remaining: 'Remaining',
    reserved: 'Reserved',
    available: 'Available',
    yes: 'yes',
    no: 'no',
    changeTotal: 'New total',
    save: 'Save',
    saved: (productId, total) => `${productId}: total set to ${total}.`,
    belowReserved: (reserved) => `The total cannot go below the ${reserved} already reserved.`,
    ordersHeading: 'Latest orders',
    orderId: 'Order',
    status: 'Status',
    createdAt: 'Placed',
    customer: 'Customer',
    noOrders: 'No orders yet.',
    personalDataRemoved: 'Personal data removed',
    auditHeading: 'Audit trail',
    auditAt: 'When',
    auditWho: 'Who',
    auditAction: 'Action',
    auditSubject: 'Subject',
    auditWhat: 'What',
    noAudit: 'Nothing recorded yet.',
    auditActions: { stock_set: 'Stock change', redeem: 'Redemption' },
    auditOutcomes: {
      created: 'created',
      updated: 'updated',
      below_reserved: 'refused: below reserved',
      redeemed: 'redeemed',
      already_redeemed: 'refused: already redeemed',
      cancelled: 'refused: cancelled',
      not_found: 'refused: no such code',
    },
    auditTotals: (before, after) => `total ${before} → ${after}`,
    auditRequest: (requestId) => `request ${requestId}`,
    searchHeading: 'Find an order',
    searchLabel: 'Order, coupon code, phone or name',
    searchHint: 'An order id or coupon code exactly; a phone in any format; at least 3 letters of a name.',
    search: 'Search',
    searchResults: (query, count) =>
      count === 0 ? `Nothing found for “${query}”.` : `${count} found for “${query}” (newest first).`,
    noResults: 'Nothing found.',
    couponCode: 'Coupon code',
    olderOrders: 'Older orders',
    newestOrders: 'Newest orders',
    olderAudit: 'Older entries',
    newestAudit: 'Newest entries',
    exportCsv: 'Download every order (CSV)',
    pages: 'Pages',
    moreProducts: 'More products',
    firstProducts: 'First products',
    pipeline: {
      heading: 'Live: orders and the pipeline',
      chart: 'Orders per minute over the last 30 minutes (bars), and the stock remaining (line):',
      remaining: 'Stock remaining',
      ordersLastMinute: 'Orders this minute',
      replicationLag: 'Change capture behind by',
      renderJobs: 'Vouchers waiting to be drawn',
      vouchersLastMinute: 'Vouchers stored in the last minute',
      oldestWithoutVoucher: 'Oldest order without a voucher',
    },
  },
  notFoundPage: 'There is nothing at this address.',
  backHome: 'Go to the product page',
};

const LOCALES: Record<string, Strings> = { en };

/** The best match for an Accept-Language header among the translations there are. */
export function stringsFor(acceptLanguage: string | undefined): Strings {
  for (const part of (acceptLanguage ?? '').split(',')) {
    const tag = part.split(';')[0]?.trim().toLowerCase().split('-')[0];
    if (tag && LOCALES[tag]) return LOCALES[tag];
  }
  return en;
}
